// The shipped demo scenario and its gateway config are one line: `takt sim` plus `takt demo` with that config, and every machine is heard.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import t from 'tap'
import { verifyPassword } from '../../edge/api/passwords.ts'
import { loadConfig } from '../../edge/config.ts'
import { trustCertificateFile, trustedCertificates } from '../../edge/connectivity/opcua/pki.ts'
import { demoEquipment } from '../../edge/demo-line.ts'
import { seedDemoLine } from '../../edge/demo.ts'
import { startGateway } from '../../edge/main.ts'
import { startSim } from '../main.ts'
import { checkScenarioFile } from '../scenario.ts'

// Two OPC UA servers make their certificates (RSA keys) at start, and the collectors wait out a refused first connection.
t.setTimeout(240_000)

const scenarios = join(import.meta.dirname, '..', 'scenarios')
const scenarioFile = join(scenarios, 'demo-line.yaml')
const configFile = join(scenarios, 'demo-line.takt.yaml')
const env = (dir: string) => ({ TAKT_DATA_DIR: dir, TAKT_HTTP_PORT: '0', TAKT_LOG_LEVEL: 'silent', TAKT_ADMIN_TOKEN: 'takt-test-admin-token-000000000000' })

t.test('each simulated machine is a device of the demo line, read with the profile it is served with', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'takt-demo-line-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const scenario = checkScenarioFile(scenarioFile)
  if (!scenario.ok) throw new Error(JSON.stringify(scenario.problems))
  const config = loadConfig({ file: configFile, env: env(dir) })
  const workCenters = new Set(demoEquipment.filter((e) => e.level === 'work_center').map((e) => e.id))
  t.equal(config.devices.length, scenario.loaded.scenario.machines.length, 'as many devices as simulated machines')
  for (const m of scenario.loaded.scenario.machines) {
    const device = config.devices.find((d) => d.name === m.name)
    if (!device) {
      t.fail(`machine '${m.name}' has no device in the config`)
      continue
    }
    t.equal(resolve(scenarios, device.profile), resolve(scenarios, m.profile), `${m.name}: the same hardware profile`)
    t.ok(workCenters.has(device.workCenterId), `${m.name}: ${device.workCenterId} is a work center of the demo line`)
    if (m.modbus) t.match(device, { host: '127.0.0.1', port: m.modbus.port, unitId: m.modbus.unitId }, `${m.name}: the simulator's Modbus port and unit`)
    if (m.opcua) t.equal(device.endpoint, `opc.tcp://127.0.0.1:${m.opcua.port}`, `${m.name}: the simulator's OPC UA endpoint`)
    if (m.sparkplug) {
      t.equal(m.sparkplug.broker, `mqtt://127.0.0.1:${config.mqtt.port}`, `${m.name}: publishes into the gateway's broker`)
      t.match(device.sparkplug, { groupId: m.sparkplug.groupId, edgeNodeId: m.sparkplug.edgeNodeId, deviceId: m.sparkplug.deviceId }, `${m.name}: the same Sparkplug names`)
      const account = config.mqtt.accounts.find((a) => a.username === m.sparkplug!.username)
      t.ok(account && (await verifyPassword(m.sparkplug.password!, account.passwordHash)), `${m.name}: its password matches its broker account`)
      t.notOk(await verifyPassword('not-the-password', account!.passwordHash), 'and another does not')
    }
  }
  t.same([...workCenters].sort(), [...new Set(config.devices.map((d) => d.workCenterId))].sort(), 'every work center of the demo line has its machine')
})

// The scenario's ports are fixed so that the shipped config can name them; a busy port fails this test loudly, never silently.
t.test('takt sim + the demo gateway: every machine connected and every work center in a machine state', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'takt-demo-line-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const config = loadConfig({ file: configFile, env: env(dir) })
  // The simulator first: its OPC UA machines make their certificates, which the technician then trusts
  // in the gateway's PKI. A certificate file appears before it is whole: retried until it reads.
  const starting = startSim(scenarioFile, { pkiDir: join(dir, 'sim-pki') })
  const pki = join(config.dataDir, 'opcua-pki')
  for (const m of ['screw1', 'tester1']) {
    const file = join(dir, 'sim-pki', m, 'own', 'certs', 'certificate.pem')
    for (let end = Date.now() + 60_000; ; await new Promise((r) => setTimeout(r, 100))) {
      try {
        trustCertificateFile(pki, file)
        break
      } catch (error) {
        if (Date.now() > end) throw error
      }
    }
  }
  t.equal(trustedCertificates(pki).length, 2, 'two certificates both named certificate.pem: both trusted, neither overwrites the other')
  const running = await startGateway(config)
  t.teardown(() => running.stop())
  const sim = await starting
  t.teardown(() => sim.stop())
  await seedDemoLine(running.gateway, new Date())

  const status = () => running.connectivity.collectors.map((c) => c.status())
  const until = async (check: () => boolean, ms: number) => {
    for (const end = Date.now() + ms; !check() && Date.now() < end; ) await new Promise((r) => setTimeout(r, 100))
    return check()
  }
  const connected = () => status().every((d) => d.connected)
  t.ok(await until(connected, 60_000), `every device connected: ${JSON.stringify(status().map((d) => [d.device, d.connected, (d as { lastError?: unknown }).lastError ?? null]))}`)
  const states = () => ['WC-PRESS', 'WC-WELD', 'WC-TEST', 'WC-PACK'].map((wc) => running.gateway.store.view.workCenterState(wc))
  t.ok(await until(() => states().every((s) => s !== undefined && s !== null), 30_000), `every work center has a machine state from its machine: ${JSON.stringify(states())}`)
  t.ok(sim.controlUrl?.startsWith('http://127.0.0.1:48480'), 'the control endpoint where the scenario puts it')
})
