// Gateway configuration: defaults, environment overrides, every problem listed with key and file, and the CLI's exit codes.
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { ConfigError, loadConfig } from '../edge/config.ts'
import { startGateway } from '../edge/main.ts'
import { freePort, runTakt, startChildGateway } from './helpers/client.ts'
import { removeDir } from './helpers/gateway.ts'


/** A temp directory removed at teardown, and a writer for files in it. */
function workDir(t: Test): { dir: string; file(name: string, text: string): string } {
  const dir = mkdtempSync(join(tmpdir(), 'takt-config-'))
  t.teardown(() => removeDir(dir))
  return {
    dir,
    file(name, text) {
      const path = join(dir, name)
      writeFileSync(path, text)
      return path
    },
  }
}

/** The problems loadConfig lists, or a failed assertion when it does not throw a ConfigError. */
function problemsOf(t: Test, load: () => unknown): string[] {
  try {
    load()
  } catch (error) {
    t.type(error, ConfigError)
    return (error as ConfigError).problems
  }
  t.fail('loadConfig accepted a bad configuration')
  return []
}

const noStack = /^\s+at .+:\d+:\d+\)?$/m

t.test('defaults', async (t) => {
  const { dir } = workDir(t)
  const config = loadConfig({ env: {}, cwd: dir })
  t.same(config, {
    dataDir: join(dir, 'data'),
    gatewayId: 'gateway-1',
    http: { host: '127.0.0.1', port: 8080, maxBodyBytes: 1024 * 1024, tls: 'auto', loginLimit: { maxFailures: 30, windowSeconds: 300 } },
    mqtt: { host: '0.0.0.0', port: 1883, websocketPort: null, tls: null, maxClients: 500, maxPacketBytes: 256 * 1024, maxMessagesPerSecond: 5000, accounts: [] },
    devices: [],
    bridge: null,
    sparkplug: null,
    historian: { rawRetentionDays: 30, ackWindowMs: 50 },
    disk: { historianFloorMb: 1024, hardFloorMb: 256, checkIntervalMs: 5000 },
    system: { sampleIntervalMs: 15_000 },
    backup: { intervalHours: 24, keep: 7, dir: join(dir, 'data', 'backups') },
    sessionTtlMinutes: 480,
    accounts: { passwordMinLength: 12, passwordHistory: 5, passwordMaxAgeDays: 90, changeAdminSetPasswords: false, maxFailedLogins: 5, lockoutMinutes: 15, sessionIdleMinutes: 15 },
    signatures: { required: [], twoPerson: [] },
    log: { level: 'info' },
    sync: null,
    erp: { maxDocumentBytes: null, defaultVersion: 'V0700', push: null },
    adminToken: null,
    profiles: {},
    source: '(defaults and environment)',
  })
  t.ok(Object.isFrozen(config), 'frozen')
  t.throws(() => {
    ;(config as { gatewayId: string }).gatewayId = 'changed'
  }, TypeError)
})

t.test('environment variables override the defaults and the file', async (t) => {
  const { dir, file } = workDir(t)
  const env = {
    TAKT_DATA_DIR: 'line-data',
    TAKT_GATEWAY_ID: 'line-7',
    TAKT_HTTP_HOST: '0.0.0.0',
    TAKT_HTTP_PORT: '9090',
    TAKT_MQTT_PORT: '1884',
    TAKT_LOG_LEVEL: 'debug',
    TAKT_ADMIN_TOKEN: 'a-very-long-admin-token-0123456789',
  }
  const config = loadConfig({ env, cwd: dir })
  t.match(config, { dataDir: join(dir, 'line-data'), gatewayId: 'line-7', http: { host: '0.0.0.0', port: 9090 }, mqtt: { port: 1884 }, log: { level: 'debug' }, adminToken: env.TAKT_ADMIN_TOKEN })
  t.equal(loadConfig({ env: { TAKT_DATA_DIR: '/srv/takt' }, cwd: dir }).dataDir, '/srv/takt', 'an absolute directory is kept')
  t.equal(loadConfig({ env: { TAKT_HTTP_PORT: '' }, cwd: dir }).http.port, 8080, 'an empty variable is no override')

  const yaml = file('takt.yaml', 'gatewayId: from-file\nhttp:\n  port: 7000\n  maxBodyBytes: 2048\nsessionTtlMinutes: 60\n')
  const fromFile = loadConfig({ file: yaml, env: {}, cwd: dir })
  t.match(fromFile, { gatewayId: 'from-file', http: { host: '127.0.0.1', port: 7000, maxBodyBytes: 2048 }, sessionTtlMinutes: 60, source: yaml })
  const both = loadConfig({ file: yaml, env: { TAKT_HTTP_PORT: '9090', TAKT_GATEWAY_ID: 'from-env' }, cwd: dir })
  t.match(both, { gatewayId: 'from-env', http: { port: 9090, maxBodyBytes: 2048 }, sessionTtlMinutes: 60 }, 'the environment wins, the rest of the file stays')
  t.equal(loadConfig({ env: { TAKT_CONFIG: yaml }, cwd: dir }).gatewayId, 'from-file', 'TAKT_CONFIG names the file')
  t.equal(loadConfig({ file: 'takt.yaml', env: {}, cwd: dir }).gatewayId, 'from-file', 'a relative file is found from cwd')
})

t.test('a YAML file with several errors lists every one, with key, file and line', async (t) => {
  const { dir, file } = workDir(t)
  const yaml = file(
    'bad.yaml',
    ['dataDir: ./data', 'gatewayId: "has spaces!"', 'http:', '  port: 99999', '  bogus: 1', 'log:', '  level: loud', 'sessionTtlMinutes: "ten"', 'extraKey: true', ''].join('\n'),
  )
  const problems = problemsOf(t, () => loadConfig({ file: yaml, env: {}, cwd: dir }))
  t.equal(problems.length, 6, problems.join('\n'))
  const expected: Array<[string, number, RegExp]> = [
    ['gatewayId', 2, /must match pattern/],
    ['http.port', 4, /Too big: expected number to be <=65535/],
    ['http.bogus', 5, /unknown key/],
    ['log.level', 7, /expected one of "fatal"\|"error"/],
    ['sessionTtlMinutes', 8, /expected number, received string/],
    ['extraKey', 9, /unknown key/],
  ]
  for (const [key, line, message] of expected) {
    const found = problems.find((p) => p.startsWith(`${key} (`))
    t.ok(found, `${key} is listed`)
    t.match(found, `(file ${yaml} line ${line})`, `${key}: file and line`)
    t.match(found, message, `${key}: what is wrong`)
  }
  const error = (() => {
    try {
      loadConfig({ file: yaml, env: {}, cwd: dir })
    } catch (e) {
      return e as Error
    }
  })()
  t.match(error?.message, /^the configuration is not valid:\n {2}- /, 'the message lists them one a line')

  const good = file('good.yaml', 'dataDir: ./data\nhttp:\n  port: 8081\n')
  t.equal(loadConfig({ file: good, env: {}, cwd: dir }).http.port, 8081, 'the same keys, valid, are accepted')
})

t.test('YAML syntax errors name the file and the line', async (t) => {
  const { dir, file } = workDir(t)
  const tab = file('tab.yaml', 'dataDir: ./data\nhttp:\n\tport: 80\n')
  t.match(problemsOf(t, () => loadConfig({ file: tab, env: {}, cwd: dir }))[0], `${tab}:3: Tabs are not allowed as indentation`)
  const duplicate = file('dup.yaml', 'dataDir: a\ndataDir: b\n')
  t.same(problemsOf(t, () => loadConfig({ file: duplicate, env: {}, cwd: dir })).map((p) => p.split(' at line')[0]), [`${duplicate}:2: Map keys must be unique`])
  const scalar = file('scalar.yaml', 'just a string\n')
  t.same(problemsOf(t, () => loadConfig({ file: scalar, env: {}, cwd: dir })), [`${scalar}: the top level must be a mapping of keys`])
  const missing = join(dir, 'missing.yaml')
  t.same(problemsOf(t, () => loadConfig({ file: missing, env: {}, cwd: dir })), [`${missing}: cannot be read (ENOENT)`])
  const empty = file('empty.yaml', '# nothing set yet\n')
  t.equal(loadConfig({ file: empty, env: {}, cwd: dir }).http.port, 8080, 'an empty file means the defaults')
})

t.test('a bad environment variable is named', async (t) => {
  t.same(problemsOf(t, () => loadConfig({ env: { TAKT_HTTP_PORT: 'eighty' } })), [`TAKT_HTTP_PORT (http.port): 'eighty' is not a whole number`])
  t.same(problemsOf(t, () => loadConfig({ env: { TAKT_HTTP_PORT: '-1' } })), [`TAKT_HTTP_PORT (http.port): '-1' is not a whole number`])
  t.same(problemsOf(t, () => loadConfig({ env: { TAKT_HTTP_PORT: '70000' } })), ['http.port (environment TAKT_HTTP_PORT): Too big: expected number to be <=65535'])
  const two = problemsOf(t, () => loadConfig({ env: { TAKT_MQTT_PORT: '1e3', TAKT_LOG_LEVEL: 'chatty' } }))
  t.equal(two.length, 2, 'both are listed')
  t.match(two.join('\n'), /TAKT_MQTT_PORT \(mqtt\.port\)/)
  t.match(two.join('\n'), /log\.level \(environment TAKT_LOG_LEVEL\)/)
  t.same(problemsOf(t, () => loadConfig({ env: { TAKT_ADMIN_TOKEN: 'short' } })), ['TAKT_ADMIN_TOKEN: must be at least 24 characters'])
  t.equal(loadConfig({ env: { TAKT_HTTP_PORT: '65535' } }).http.port, 65535, 'the highest port is accepted')
  t.equal(loadConfig({ env: { TAKT_HTTP_PORT: '0' } }).http.port, 0, 'port 0 (pick a free one) is accepted')
})

t.test('takt edge --config bad.yaml exits 2 with every problem on stderr', async (t) => {
  const { dir, file } = workDir(t)
  const yaml = file('bad.yaml', 'http:\n  port: 99999\nlog:\n  level: loud\n')
  const run = runTakt(['edge', '--config', yaml], { TAKT_DATA_DIR: join(dir, 'data') })
  t.teardown(() => run.child.kill('SIGKILL'))
  const exit = await run.exited
  t.equal(exit.code, 2)
  t.match(run.stderr(), /^takt edge: the configuration is not valid:/)
  t.match(run.stderr(), `http.port (file ${yaml} line 2): Too big`)
  t.match(run.stderr(), `log.level (file ${yaml} line 4): Invalid option`)
  t.notMatch(run.stderr(), noStack, 'no stack trace')
  t.equal(run.stdout(), '')
  t.notOk(existsSync(join(dir, 'data')), 'nothing was created')
})

t.test('takt edge with a valid file starts and uses it', async (t) => {
  const { dir, file } = workDir(t)
  const yaml = file('good.yaml', `dataDir: ${join(dir, 'from-file')}\ngatewayId: line-9\n`)
  const child = await startChildGateway({ TAKT_CONFIG: yaml })
  t.teardown(() => child.kill('SIGKILL'))
  t.ok(existsSync(join(dir, 'from-file', 'takt.db')), 'the database is in the configured data directory')
  t.match(child.stdout(), `"config":"${yaml}"`, 'the log says which file was used')
  t.equal((await child.kill('SIGTERM')).code, 0)
})

t.test('takt --help lists edge; an unknown command exits 2', async (t) => {
  const help = runTakt(['--help'], {})
  t.equal((await help.exited).code, 0)
  t.match(help.stdout(), /^ {2}edge \[--config FILE\] +run the line gateway/m)
  t.match(help.stdout(), /TAKT_HTTP_PORT/)
  const unknown = runTakt(['frobnicate'], {})
  t.equal((await unknown.exited).code, 2)
  t.match(unknown.stderr(), /unknown command 'frobnicate'/)
})

t.test('devices: profiles are loaded at start; a bad profile or binding is refused with file, line and path', async (t) => {
  const { dir, file } = workDir(t)
  const profiles = join(import.meta.dirname, '..', 'hardware-profiles')
  const good = file('good.yaml', `devices:\n  - { name: press1, workCenterId: WC-PRESS, profile: ${profiles}/generic-modbus-tcp-machine.yaml, host: 127.0.0.1, port: 502 }\n  - { name: oven1, workCenterId: WC-OVEN, profile: ${profiles}/mqtt-json-sensor.yaml }\n`)
  const config = loadConfig({ file: good, env: {}, cwd: dir })
  t.same(Object.keys(config.profiles), ['press1', 'oven1'])
  t.equal(config.profiles.press1?.protocol, 'modbus')
  const broken = file('broken-profile.yaml', 'profile: x\nversion: 1\nprotocol: modbus\nsignals:\n  - { name: s, kind: value, area: coil, address: 1, type: uint16 }\n')
  const bad = file('bad-devices.yaml', `devices:\n  - { name: a, workCenterId: W, profile: ${broken} }\n  - { name: b, workCenterId: W, profile: ${profiles}/generic-modbus-tcp-machine.yaml }\n  - { name: b, workCenterId: W, profile: ${profiles}/packml-opcua-machine.yaml }\n`)
  const problems = problemsOf(t, () => loadConfig({ file: bad, env: {}, cwd: dir }))
  t.same(problems, [
    `devices[0].profile: ${broken}:5: signals[0].type: a coil holds one bit; type must be bit`,
    'devices[1]: a Modbus TCP device needs host and port',
    "devices[2].name: device 'b' is named twice",
    'devices[2]: an OPC UA device needs endpoint (opc.tcp://host:port)',
  ])
  const sparkplug = file('sparkplug-devices.yaml', `devices:\n  - { name: s, workCenterId: W, profile: ${profiles}/sparkplug-b-device.yaml }\n  - { name: u, workCenterId: W, profile: ${profiles}/packml-opcua-machine.yaml, endpoint: 'opc.tcp://plc:4840', username: op }\n`)
  t.same(problemsOf(t, () => loadConfig({ file: sparkplug, env: {}, cwd: dir })), [
    'devices[0]: a Sparkplug device needs sparkplug.groupId and sparkplug.edgeNodeId',
    'devices[1]: username and password go together',
  ])
})

t.test('a port already in use is reported naming TAKT_HTTP_PORT, not a stack trace', async (t) => {
  const { dir } = workDir(t)
  const port = await freePort()
  const blocker: Server = createServer()
  await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => (blocker.listening ? blocker.close(() => resolve()) : resolve())))

  const run = runTakt(['edge'], { TAKT_DATA_DIR: join(dir, 'cli'), TAKT_HTTP_PORT: String(port), TAKT_HTTP_HOST: '127.0.0.1', TAKT_MQTT_PORT: '0' })
  t.teardown(() => run.child.kill('SIGKILL'))
  const exit = await run.exited
  t.equal(exit.code, 2)
  t.match(run.stderr(), `http.port: port ${port} is already in use; set TAKT_HTTP_PORT to a free port`)
  t.notMatch(run.stderr(), noStack, 'no stack trace')

  const config = loadConfig({ env: { TAKT_DATA_DIR: join(dir, 'lib'), TAKT_HTTP_PORT: String(port), TAKT_MQTT_PORT: '0', TAKT_LOG_LEVEL: 'silent' } })
  const refused = await startGateway(config).then(
    async (running) => {
      await running.stop()
      return undefined
    },
    (error: unknown) => error,
  )
  t.type(refused, ConfigError, 'in-process, startGateway rejects with a ConfigError')
  t.same((refused as ConfigError).problems, [`http.port: port ${port} is already in use; set TAKT_HTTP_PORT to a free port`])

  // The other side: once the port is free the same configuration starts.
  await new Promise<void>((resolve) => blocker.close(() => resolve()))
  const running = await startGateway(config)
  t.equal(running.port, port)
  await running.stop()
})

t.test('an MQTT port already in use is reported naming TAKT_MQTT_PORT', async (t) => {
  const { dir } = workDir(t)
  const port = await freePort()
  const blocker: Server = createServer()
  await new Promise<void>((resolve) => blocker.listen(port, '0.0.0.0', resolve))
  t.teardown(() => new Promise<void>((resolve) => (blocker.listening ? blocker.close(() => resolve()) : resolve())))
  const config = loadConfig({ env: { TAKT_DATA_DIR: join(dir, 'mqtt'), TAKT_HTTP_PORT: '0', TAKT_MQTT_PORT: String(port), TAKT_LOG_LEVEL: 'silent' } })
  const refused = await startGateway(config).then(
    async (running) => {
      await running.stop()
      return undefined
    },
    (error: unknown) => error,
  )
  t.type(refused, ConfigError)
  t.same((refused as ConfigError).problems, ['mqtt.port: the port is already in use; set TAKT_MQTT_PORT to a free port'])
  await new Promise<void>((resolve) => blocker.close(() => resolve()))
  const running = await startGateway(config)
  t.equal(running.connectivity.ports.mqtt, port, 'once free, the broker takes the port')
  await running.stop()
})
