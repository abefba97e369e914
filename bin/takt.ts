#!/usr/bin/env node
// The takt command line: one entry, subcommands for each part of Takt.
import { parseArgs } from 'node:util'
import { missingServiceEnvironment, missingServiceFlags } from './service-flags.ts'

const help = `takt — edge-first MES gateway

Usage: takt <command> [options]

Commands:
  edge [--config FILE]   run the line gateway (HTTP API)
  demo                   run a whole demo line: cloud, gateway, simulated machines, orders, crew (--help)
  cloud                  run cloud-sync, the central replica the gateways push to (--help)
  sim SCENARIO.yaml      run simulated machines (OPC UA, Modbus TCP, Sparkplug B) from a scenario
  opcua browse URL       list an OPC UA server's variables, or draft a profile (--skeleton NAME)
  opcua rejected|trust   server certificates the gateway refused; trust one by its thumbprint
  profiles check FILE... validate hardware profiles; every problem with file, line and path
  hash-password          read a password on stdin, print its scrypt hash (for mqtt.accounts)
  audit verify           check the event log's hash chain and signatures in TAKT_DATA_DIR (--help)
  import FILE...         B2MML or JSON documents into TAKT_DATA_DIR, all or none, or a running gateway (--url)
  export WHAT            orders, as-built, genealogy or the audit trail as JSON (as-built also as B2MML)
  backup [--out FILE]    a verified online backup of the gateway's databases, safe while it runs
  restore FILE           restore a verified backup into a stopped gateway's data directory
  help, --help           show this help
  --version              print the version

Configuration (takt edge): a YAML file given by --config or TAKT_CONFIG, then these
environment variables, which win over the file:
  TAKT_DATA_DIR     data directory (default ./data)
  TAKT_HTTP_HOST    address the API listens on (default 127.0.0.1)
  TAKT_HTTP_PORT    HTTP port (default 8080; 0 picks a free port)
  TAKT_MQTT_PORT    MQTT broker port (default 1883)
  TAKT_GATEWAY_ID   this gateway's id (default gateway-1)
  TAKT_LOG_LEVEL    fatal|error|warn|info|debug|trace|silent (default info)
  TAKT_ADMIN_TOKEN  on first start, provisions an admin API token with this value
See docs/configuration.md for every key.
`

/** Re-executes this process (same pid, so signals and supervisors see no difference) with the service flags and environment, unless set. */
function withServiceFlags(): void {
  const flags = missingServiceFlags(process.execArgv, process.env.NODE_OPTIONS)
  const environment = missingServiceEnvironment(process.env)
  if ((flags.length === 0 && Object.keys(environment).length === 0) || typeof process.execve !== 'function') return
  process.execve(process.execPath, [process.execPath, ...flags, ...process.execArgv, ...process.argv.slice(1)], { ...process.env, ...environment })
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv
  if (command === 'edge' || command === 'demo' || command === 'sim') withServiceFlags()
  switch (command) {
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(help)
      return
    case '--version': {
      const { version } = await import('../edge/gateway.ts')
      process.stdout.write(`${version}\n`)
      return
    }
    case 'edge': {
      const { values } = parseArgs({ args: rest, options: { config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' } } })
      if (values.help) {
        process.stdout.write(help)
        return
      }
      const { runGateway } = await import('../edge/main.ts')
      await runGateway(values.config)
      return
    }
    case 'demo': {
      const { runDemo } = await import('../edge/demo.ts')
      await runDemo(rest)
      return
    }
    case 'cloud': {
      const { cloudHelp, runCloud } = await import('../cloud-sync/main.ts')
      if (rest[0] === '--help' || rest[0] === '-h') {
        process.stdout.write(cloudHelp)
        return
      }
      if (rest.length > 0) {
        process.stderr.write(`takt cloud: unexpected argument '${rest[0]}'\n\n${cloudHelp}`)
        process.exit(2)
      }
      await runCloud()
      return
    }
    case 'sim': {
      if (rest[0] === '--help' || rest[0] === '-h') {
        process.stdout.write('Usage: takt sim SCENARIO.yaml\n  Runs the scenario\'s machines; examples in simulators/scenarios/. Ctrl-C stops them.\n')
        return
      }
      const { runSim } = await import('../simulators/main.ts')
      await runSim(rest[0])
      return
    }
    case 'opcua': {
      const { opcuaHelp, runOpcua } = await import('./opcua-command.ts')
      if (rest.length === 0 || rest[0] === '--help' || rest[0] === '-h') {
        process.stdout.write(opcuaHelp)
        return
      }
      await runOpcua(rest)
      return
    }
    case 'audit': {
      const { auditHelp, runAudit } = await import('./audit-command.ts')
      if (rest.length === 0 || rest[0] === '--help' || rest[0] === '-h') {
        process.stdout.write(auditHelp)
        return
      }
      process.exit(await runAudit(rest))
    }
    case 'import': {
      const { runImport } = await import('./import-command.ts')
      process.exitCode = await runImport(rest)
      return
    }
    case 'export': {
      const { runExport } = await import('./export-command.ts')
      // exitCode, not exit(): a large export to a pipe is written out before the process ends.
      process.exitCode = await runExport(rest)
      return
    }
    case 'backup': {
      const { runBackup } = await import('./backup-command.ts')
      process.exitCode = await runBackup(rest)
      return
    }
    case 'restore': {
      const { runRestore } = await import('./backup-command.ts')
      process.exitCode = await runRestore(rest)
      return
    }
    case 'hash-password': {
      const chunks: Buffer[] = []
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
      const password = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '')
      if (password.length < 12) {
        process.stderr.write('takt hash-password: a password needs at least 12 characters\n')
        process.exit(2)
      }
      const { hashPassword } = await import('../edge/api/passwords.ts')
      process.stdout.write(`${await hashPassword(password)}\n`)
      return
    }
    case 'profiles': {
      const [verb, ...files] = rest
      if (rest.includes('--help') || rest.includes('-h')) {
        process.stdout.write('Usage: takt profiles check FILE...\n  Validates hardware profiles (YAML) against their schema; every problem with file, line and path.\n  Exit codes: 0 every profile valid; 1 a profile has problems; 2 usage error.\n')
        return
      }
      if (verb !== 'check' || files.length === 0) {
        process.stderr.write('usage: takt profiles check FILE...\n')
        process.exit(2)
      }
      const { checkProfileFile, formatProblem } = await import('../hardware-profiles/load.ts')
      let bad = 0
      for (const file of files) {
        const result = checkProfileFile(file)
        if (result.ok) process.stdout.write(`${file}: ok (${result.profile.protocol}, ${result.profile.signals.length} signals)\n`)
        else {
          bad += 1
          for (const p of result.problems) process.stderr.write(`${formatProblem(p)}\n`)
        }
      }
      process.exit(bad > 0 ? 1 : 0)
    }
    default:
      process.stderr.write(`takt: unknown command '${command}'\n\n${help}`)
      process.exit(2)
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`takt: ${error instanceof Error ? error.message : String(error)}\n`)
  process.exit(1)
})
