// A real gateway process configured for the telemetry bench: MQTT JSON devices with a scrypt-hashed account each, on free ports.
//
// bench/lib/gateway-process.ts writes its own one-line configuration and does not tell the MQTT
// port, so this spawns `node bin/takt.ts edge --config FILE` the same way with the bench's file.
import { spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { hashPassword } from '../../edge/api/passwords.ts'
import { onCleanup } from './cleanup.ts'
import { freePort, projectRoot, type GatewayProcess } from './gateway-process.ts'

export interface TelemetryGatewayOptions {
  dataDir: string
  adminToken: string
  /** Device names; each is an MQTT account (its name as user name) and an MQTT JSON device. */
  devices: string[]
  password: string
  samplesPerMessage: number
  /** The work center the devices are bound to (their signals are plain values: no MES facts). */
  workCenterId: string
  nodeArgs?: string[]
}

export interface TelemetryGateway extends GatewayProcess {
  mqttPort: number
  historianFile: string
}

export const telemetryTopic = (device: string) => `devices/${device}/telemetry`

/** A profile whose one topic carries `samples` numeric values, `$.p0` … `$.p{n-1}`. */
function profileYaml(samples: number): string {
  const signals = Array.from({ length: samples }, (_, i) => `  - { name: p${i}, kind: value, topic: "devices/\${device}/telemetry", path: $.p${i} }`)
  return ['profile: bench-telemetry', 'version: 1', 'vendor: bench', 'model: telemetry device', 'protocol: mqtt-json', 'signals:', ...signals, ''].join('\n')
}

async function configYaml(o: TelemetryGatewayOptions, profileFile: string): Promise<string> {
  // One hash for every account: scrypt is slow on purpose and the bench needs no distinct secrets.
  const hash = await hashPassword(o.password)
  return [
    'mqtt:',
    '  host: 127.0.0.1',
    // The per-client flood limit guards the line against a broken device; the bench is the flood.
    '  maxMessagesPerSecond: 10000000',
    '  accounts:',
    ...o.devices.map((d) => `    - { username: ${d}, passwordHash: "${hash}", publish: ["devices/\${username}/#"] }`),
    'devices:',
    ...o.devices.map((d) => `  - { name: ${d}, workCenterId: ${o.workCenterId}, profile: ${profileFile} }`),
    '',
  ].join('\n')
}

async function healthy(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) })
    await res.arrayBuffer()
    return res.status === 200
  } catch {
    return false
  }
}

export async function startTelemetryGateway(o: TelemetryGatewayOptions): Promise<TelemetryGateway> {
  const [port, mqttPort] = [await freePort(), await freePort()]
  const url = `http://127.0.0.1:${port}`
  const profileFile = join(o.dataDir, 'bench-telemetry-profile.yaml')
  writeFileSync(profileFile, profileYaml(o.samplesPerMessage))
  const configFile = join(o.dataDir, 'bench-telemetry-gateway.yaml')
  writeFileSync(configFile, await configYaml(o, profileFile))
  const env = { ...process.env, TAKT_CONFIG: '', TAKT_DATA_DIR: o.dataDir, TAKT_HTTP_HOST: '127.0.0.1', TAKT_HTTP_PORT: String(port), TAKT_MQTT_PORT: String(mqttPort), TAKT_LOG_LEVEL: 'warn', TAKT_ADMIN_TOKEN: o.adminToken }
  const child = spawn(process.execPath, [...(o.nodeArgs ?? []), 'bin/takt.ts', 'edge', '--config', configFile], { cwd: projectRoot, env, stdio: ['ignore', 'pipe', 'pipe'] })
  const tail: string[] = []
  const keep = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line.trim() === '') continue
      tail.push(line)
      if (tail.length > 40) tail.shift()
      process.stderr.write(`  [gateway] ${line}\n`)
    }
  }
  child.stdout.on('data', keep)
  child.stderr.on('data', keep)
  let exitCode: number | null | undefined
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve((exitCode = code))))
  const stop = onCleanup(async () => {
    if (exitCode !== undefined) return
    child.kill('SIGTERM')
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000)
    await exited
    clearTimeout(killer)
  })
  const deadline = Date.now() + 20_000
  while (!(await healthy(url))) {
    if (exitCode !== undefined) throw new Error(`the gateway exited with code ${exitCode} before it was ready:\n${tail.join('\n')}`)
    if (Date.now() > deadline) {
      await stop()
      throw new Error(`the gateway did not answer /health within 20 s:\n${tail.join('\n')}`)
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  return {
    url,
    pid: child.pid!,
    mqttPort,
    historianFile: join(o.dataDir, 'historian.db'),
    async stop() {
      await stop()
      return exited
    },
  }
}
