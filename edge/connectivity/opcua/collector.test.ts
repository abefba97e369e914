// The OPC UA collector against the real simulator in process: values and security, users, trust, quality, deadbands, refused items, bad configuration.
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import pino from 'pino'
import t from 'tap'
import { packmlState } from '../../../simulators/opcua/machine-server.ts'
import { collect, everyGood, fixture, machine, packmlProfile, silent, type Fixture } from './collector-fixture.ts'
import { OpcUaCollector } from './collector.ts'
import { rejectedCertificates, trustRejected } from './pki.ts'

let f: Fixture
t.before(async () => void (f = await fixture('collector')))
t.teardown(() => f.remove())

t.test('the shipped PackML profile over SignAndEncrypt, with a user', async (t) => {
  const sim = await machine(t, f, { users: [{ username: 'line1', password: 's3cret-pass' }], cycleTimeMs: 200 })
  const { collector, get, latest, until } = collect(t, f, { endpoint: sim.endpoint, username: 'line1', password: 's3cret-pass' })
  t.ok(await until(() => everyGood(latest, 6)), 'every signal arrives with good quality')
  t.equal(get('state')?.value, packmlState.execute, 'PackML Execute')
  t.equal(get('machine_speed')?.value, 300, 'CurMachSpeed: 60,000 ms / 200 ms cycle = 300 parts/min')
  t.equal(get('stop_reason')?.value, 0, 'no stop reason')
  const count = Number(get('processed_count')?.value)
  t.ok(await until(() => Number(get('processed_count')?.value) > count), 'the counter keeps moving')
  sim.setState(packmlState.held)
  t.ok(await until(() => get('state')?.value === packmlState.held), 'a state change arrives')
  t.match(collector.status(), { device: 'filler1', connected: true, lastError: null }, 'status: connected, no error')
  t.ok(collector.status().cycles > 0, 'notification messages are counted')
  t.ok(existsSync(join(f.clientPki, 'own', 'certs', 'client_certificate.pem')), 'the client certificate lives in the PKI folder given')
})

t.test('a wrong password is Bad with the reason, and no values', async (t) => {
  const sim = await machine(t, f, { users: [{ username: 'line1', password: 's3cret-pass' }] })
  const { collector, get, until } = collect(t, f, { endpoint: sim.endpoint, username: 'line1', password: 'wrong', profile: packmlProfile({ securityMode: 'None', securityPolicy: 'None' }) })
  t.ok(await until(() => get('state') !== undefined), 'a sample arrives')
  t.match(get('state'), { quality: 'bad', value: null, reason: /refused the user \(BadUserAccessDenied\)/ })
  t.notOk(collector.status().connected, 'not connected')
  t.notMatch(JSON.stringify(collector.status()), /wrong/, 'the password appears nowhere in the status')
})

t.test('an unknown server certificate is refused until a technician trusts it', async (t) => {
  const pkiDir = join(f.work, 'fresh-pki')
  const sim = await machine(t, f)
  const { collector, get, latest, until } = collect(t, f, { endpoint: sim.endpoint, pkiDir, profile: packmlProfile({ securityMode: 'Sign', securityPolicy: 'Basic256Sha256' }) })
  t.ok(await until(() => get('state') !== undefined), 'a sample arrives')
  t.match(get('state'), { quality: 'bad', reason: /server certificate not trusted \(BadCertificateUntrusted\)/ })
  t.notOk(collector.status().connected, 'not connected with an untrusted server')
  const refused = rejectedCertificates(pkiDir)
  t.equal(refused.length, 1, 'the server certificate waits in rejected/')
  t.equal(refused[0]!.applicationUri, 'urn:takt:simulator:packml-machine-server', 'it is the simulator’s')
  trustRejected(pkiDir, refused[0]!.thumbprint.slice(0, 12))
  t.ok(await until(() => everyGood(latest, 6)), 'trusted: the next retry connects, without a restart')
  t.equal(rejectedCertificates(pkiDir).length, 0, 'nothing left in rejected/')
})

t.test('status codes become quality by severity, with the name as reason', async (t) => {
  const sim = await machine(t, f, { cycleTimeMs: 3_600_000 })
  const { get, latest, until } = collect(t, f, { endpoint: sim.endpoint, profile: packmlProfile({ securityMode: 'None', securityPolicy: 'None', publishingIntervalMs: 100 }) })
  t.ok(await until(() => everyGood(latest, 6)), 'subscribed')
  t.notOk('reason' in get('fill_weight')!, 'plain Good carries no reason')
  sim.setStatus('measurement:FillWeight', 'UncertainLastUsableValue')
  t.ok(await until(() => get('fill_weight')?.quality === 'uncertain'), 'UncertainLastUsableValue is uncertain')
  t.match(get('fill_weight'), { reason: 'UncertainLastUsableValue', value: 500 }, 'an Uncertain value is kept')
  sim.setStatus('measurement:FillWeight', 'BadSensorFailure')
  t.ok(await until(() => get('fill_weight')?.quality === 'bad'), 'BadSensorFailure is bad')
  t.match(get('fill_weight'), { reason: 'BadSensorFailure', value: null }, 'a Bad value is not used')
  sim.write('measurement:FillWeight', 501)
  t.ok(await until(() => get('fill_weight')?.quality === 'good'), 'Good again')
  t.equal(get('fill_weight')?.value, 501, 'with the new value')
  t.equal(get('state')?.quality, 'good', 'the other signals are untouched')
})

t.test('deadbands: absolute, percent of the EURange, and percent without one', async (t) => {
  const sim = await machine(t, f, { cycleTimeMs: 3_600_000 })
  const p = packmlProfile({ securityMode: 'None', securityPolicy: 'None', publishingIntervalMs: 50 })
  // fill_weight: absolute 0.1 g. machine_speed (CurMachSpeed, EURange 0–600): 1 % = 6. state: percent on an Int32 without EURange.
  p.signals = p.signals.map((s) => (s.name === 'state' ? { ...s, deadband: { type: 'percent', value: 1 } } : s))
  const logs: Array<{ msg: string; signal?: string; status?: string }> = []
  const logger = pino({ level: 'warn' }, { write: (line: string) => void logs.push(JSON.parse(line)) })
  const { all, get, until } = collect(t, f, { endpoint: sim.endpoint, profile: p, logger })
  t.ok(await until(() => get('fill_weight') !== undefined && get('machine_speed') !== undefined && get('state') !== undefined), 'subscribed')
  const seen = (name: string, value: number) => all.some((s) => s.signal === `filler1/${name}` && s.value === value)
  const settle = () => new Promise((resolve) => setTimeout(resolve, 400))
  sim.write('measurement:FillWeight', 500.05)
  sim.write('speed', 3)
  await settle()
  t.notOk(seen('fill_weight', 500.05), 'a move within the absolute deadband is not reported')
  t.notOk(seen('machine_speed', 3), 'a move of 0.5 % of the EURange is not reported')
  sim.write('measurement:FillWeight', 500.3)
  sim.write('speed', 20)
  t.ok(await until(() => seen('fill_weight', 500.3) && seen('machine_speed', 20)), 'moves past the deadbands are reported')
  sim.setState(packmlState.idle)
  t.ok(await until(() => get('state')?.value === packmlState.idle), 'a variable without EURange is monitored without its percent deadband')
  t.equal(get('state')?.quality, 'good', 'and its values are good')
  t.match(logs, [{ msg: /percent deadband refused/, signal: 'filler1/state', status: 'BadMonitoredItemFilterUnsupported' }], 'the refusal is logged, for that signal only')
})

t.test('a node the server does not know is Bad for that signal alone', async (t) => {
  const sim = await machine(t, f)
  const p = packmlProfile({ securityMode: 'None', securityPolicy: 'None' })
  p.signals = [...p.signals, { name: 'ghost', kind: 'value', nodeId: 'ns=2;s=No.Such.Node' }]
  const { collector, get, latest, until } = collect(t, f, { endpoint: sim.endpoint, profile: p })
  t.ok(await until(() => latest.size === 7 && get('state')?.quality === 'good'), 'subscribed')
  t.match(get('ghost'), { quality: 'bad', value: null, reason: 'BadNodeIdUnknown' })
  t.equal(get('processed_count')?.quality, 'good', 'the other signals are good')
  t.match(collector.status(), { connected: true, lastError: /1 of 7 signals refused by the server, e.g. filler1\/ghost: BadNodeIdUnknown/ })
})

t.test('bad configuration is refused at construction, naming device and place', async (t) => {
  const base = { device: 'filler1', endpoint: 'opc.tcp://127.0.0.1:4840', pkiDir: f.clientPki, logger: silent, sink: () => {} }
  const p = packmlProfile()
  p.signals = p.signals.map((s, i) => (i === 2 ? { ...s, nodeId: 'ns=x;i=abc' } : s))
  t.throws(() => new OpcUaCollector({ ...base, profile: p }), /device filler1 \(profile packml-opcua-machine\): signals\[2\] \(defective_count\): nodeId 'ns=x;i=abc' is not a valid NodeId/)
  t.throws(() => new OpcUaCollector({ ...base, profile: packmlProfile({ securityMode: 'None', securityPolicy: 'Basic256Sha256' }) }), /securityMode None cannot use securityPolicy Basic256Sha256/)
  t.throws(() => new OpcUaCollector({ ...base, profile: packmlProfile({ securityMode: 'Sign', securityPolicy: 'None' }) }), /securityMode Sign needs a securityPolicy/)
  t.throws(() => new OpcUaCollector({ ...base, profile: packmlProfile(), endpoint: 'http://plc:4840' }), /endpoint must be an opc\.tcp:\/\/ URL/)
  t.throws(() => new OpcUaCollector({ ...base, profile: packmlProfile(), username: 'line1' }), /username and password go together/)
  const ok = new OpcUaCollector({ ...base, profile: packmlProfile() })
  t.equal(ok.device, 'filler1', 'a good configuration is accepted')
  await ok.stop()
})
