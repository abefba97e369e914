// The simulated OPC UA machines (shipped PackML and Siemens S7-1500 profiles) read by the gateway's own OPC UA collector: the model's values, and each fault as the right quality.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino from 'pino'
import t from 'tap'
import { OpcUaCollector } from '../../edge/connectivity/opcua/collector.ts'
import { trustCertificateFile } from '../../edge/connectivity/opcua/pki.ts'
import type { Sample } from '../../edge/historian/historian.ts'
import { OpcUaMachine } from '../opcua/machine.ts'
import { LineSimulator } from '../runner.ts'
import { checkScenarioFile, type Fault } from '../scenario.ts'

// Each test starts a node-opcua server and client with fresh certificates, and waits out the collector's
// keep-alive watchdog (about 10 s by design) once: more than the default two minutes on a busy machine.
t.setTimeout(300_000)

const profiles = join(import.meta.dirname, '..', '..', 'hardware-profiles')
type Arrived = Sample & { arrivedAt: number }

interface Teardown {
  teardown(fn: () => unknown): void
}

/** A one-machine line on a free port, its server's certificate trusted in a fresh client PKI, read by the collector with the shipped profile. */
async function line(t: Teardown, name: string, machineYaml: string) {
  const dir = mkdtempSync(join(tmpdir(), 'takt-sim-opcua-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  writeFileSync(join(dir, 's.yaml'), `scenario: opcua\nseed: 7\ntimeScale: 20\nmachines:\n  - name: ${name}\n    opcua: { port: 0 }\n${machineYaml}`)
  const loaded = checkScenarioFile(join(dir, 's.yaml'))
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems))
  let machine: OpcUaMachine | undefined
  const sim = new LineSimulator(loaded.loaded, (m, p) => (machine = new OpcUaMachine(m, p, { pkiDir: join(dir, 'server-pki') })), { tickMs: 20 })
  const endpoint = (await sim.start())[name]!
  t.teardown(() => sim.stop())
  const profile = loaded.loaded.profiles[name]!
  if (profile.protocol !== 'opcua') throw new Error('not an OPC UA profile')
  // As a technician commissioning the line would: the server's certificate goes into the gateway's trusted/ first.
  const clientPki = join(dir, 'client-pki')
  trustCertificateFile(clientPki, machine!.certificateFile)
  const latest = new Map<string, Arrived>()
  const all: Arrived[] = []
  const collector = new OpcUaCollector({
    device: name,
    endpoint,
    pkiDir: clientPki,
    profile,
    logger: pino({ level: 'silent' }),
    sink: (samples) => {
      for (const s of samples) {
        const arrived = { ...s, arrivedAt: Date.now() }
        latest.set(s.signal.slice(name.length + 1), arrived)
        all.push(arrived)
      }
    },
  })
  collector.start()
  t.teardown(() => collector.stop())
  const until = async (check: () => boolean, ms = 30_000) => {
    for (const end = Date.now() + ms; !check() && Date.now() < end; ) await new Promise((r) => setTimeout(r, 25))
    return check()
  }
  const since = (from: number, signal: string) => all.filter((s) => s.arrivedAt >= from && s.signal === `${name}/${signal}`)
  const everyGood = () => latest.size === profile.signals.length && [...latest.values()].every((s) => s.quality === 'good')
  return { sim, machine: machine!, endpoint, collector, get: (signal: string) => latest.get(signal), latest, since, until, everyGood, inject: (f: Omit<Fault, 'machine'>) => sim.inject({ machine: name, ...f }) }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

t.test('the PackML filler over SignAndEncrypt: values follow the model, and every OPC UA fault is seen as the right quality', async (t) => {
  const m = await line(t, 'filler1', `    profile: ${profiles}/packml-opcua-machine.yaml\n    cycleTime: { mean: 2 }\n    scrapRate: 0.2\n    measurements: [{ name: fill_weight, mean: 500, sd: 0 }]\n`)
  const { sim, machine, get, since, until, everyGood, inject } = m
  await t.test('values follow the model', async (t) => {
    t.match(m.endpoint, /^opc\.tcp:\/\/127\.0\.0\.1:\d+$/, 'served on a free port')
    t.ok(await until(everyGood), 'every signal arrives good, over SignAndEncrypt with the server trusted beforehand')
    t.equal(get('state')?.value, 6, 'PackML Execute (6) while the model runs')
    t.equal(get('machine_speed')?.value, 30, '60 s / 2 s cycle = 30 parts/min')
    t.equal(get('fill_weight')?.value, 500, 'the measurement')
    t.equal(get('stop_reason')?.value, 0, 'no stop reason')
    t.match(machine.server!.variable('processed_count'), { nodeId: 'ns=2;s=PackML.Admin.ProdProcessedCount[0].AccCount', dataType: 'Int32' }, 'the node the profile names, a DINT as its wrap says')
    const first = Number(get('processed_count')!.value)
    t.ok(await until(() => Number(get('processed_count')?.value) > first + 5), 'the counter rises as the model makes parts')
    const model = sim.model.snapshot('filler1')
    t.ok(Number(get('processed_count')!.value) <= model.processed && Number(get('processed_count')!.value) >= model.processed - 30, `the collector is at most a few publishes behind the model (${get('processed_count')!.value} of ${model.processed})`)
    t.ok(await until(() => Number(get('defective_count')?.value) > 0), 'defective parts are counted too')

    sim.model.setPlannedStop('filler1', true)
    t.ok(await until(() => get('state')?.value === 2 && get('machine_speed')?.value === 0), 'a planned stop is PackML Stopped (2), speed 0')
    t.equal(machine.server!.read('state').value, 2, 'server side: StateCurrent is 2')
    sim.model.setPlannedStop('filler1', false)
    t.ok(await until(() => get('state')?.value === 6), 'Execute again')
  })

  await t.test('opcua_bad_status: the named status on one signal or all, values frozen', async (t) => {
    const sensor = inject({ fault: 'opcua_bad_status', status: 'BadSensorFailure', signal: 'fill_weight' })
    t.ok(await until(() => get('fill_weight')?.quality === 'bad'), 'BadSensorFailure on fill_weight')
    t.match(get('fill_weight'), { value: null, reason: 'BadSensorFailure' }, 'the named status on the named signal, no value')
    t.equal(get('state')?.quality, 'good', 'the other signals stay good')
    t.match(machine.server!.read('fill_weight'), { status: 'BadSensorFailure', value: null }, 'server side: the status, and no value (OPC 10000-4 7.7.1)')
    sim.clear(sensor.id)
    t.ok(await until(() => get('fill_weight')?.quality === 'good' && get('fill_weight')?.value === 500), 'good again with its value when cleared')

    const uncertain = inject({ fault: 'opcua_bad_status', status: 'UncertainLastUsableValue' })
    t.ok(await until(() => [...m.latest.values()].every((s) => s.quality === 'uncertain')), 'no signal named: every signal gets the status')
    const frozen = get('processed_count')!.value
    await sleep(1_500)
    t.equal(get('processed_count')?.value, frozen, 'values frozen while the fault lasts')
    t.ok(sim.model.snapshot('filler1').processed > Number(frozen) + 5, 'though the model goes on making parts')
    t.equal(get('processed_count')?.reason, 'UncertainLastUsableValue', 'the reason is the status name')
    sim.clear(uncertain.id)
    t.ok(await until(() => everyGood() && Number(get('processed_count')?.value) > Number(frozen) + 5), 'cleared: good, and the counter catches up with the model')
  })

  await t.test('clock_skew: source timestamps shifted', async (t) => {
    const skew = inject({ fault: 'clock_skew', skewMs: 3_600_000 })
    t.ok(await until(() => Number(get('processed_count')?.timestamp) > Date.now() + 3_590_000), 'source timestamps an hour ahead')
    t.equal(get('processed_count')?.quality, 'good', 'a skewed clock does not change the quality')
    sim.clear(skew.id)
    t.ok(await until(() => Math.abs(Number(get('processed_count')?.timestamp) - Date.now()) < 5_000), 'back in step when cleared')
  })

  await t.test('slow: answers and publishes delayMs late, values good', async (t) => {
    const before = Date.now()
    await sleep(2_000)
    const normal = since(before, 'processed_count').map((s) => s.arrivedAt - s.timestamp)
    const slow = inject({ fault: 'slow', delayMs: 2_500 })
    await sleep(3_000)
    const from = Date.now()
    await sleep(2_500)
    const late = since(from, 'processed_count')
    t.ok(late.length >= 3, `values still arrive while slow (${late.length})`)
    t.ok(late.every((s) => s.quality === 'good'), 'good values, only late')
    const lateness = late.map((s) => s.arrivedAt - s.timestamp)
    t.ok(Math.min(...lateness) >= 2_500, `every value arrives at least delayMs after its source timestamp (${Math.min(...lateness)}–${Math.max(...lateness)} ms; without the fault ${Math.min(...normal)}–${Math.max(...normal)} ms)`)
    sim.clear(slow.id)
    await sleep(3_500)
    const after = Date.now()
    t.ok(await until(() => since(after, 'processed_count').length >= 2), 'values keep coming')
    t.ok(since(after, 'processed_count').every((s) => s.arrivedAt - s.timestamp < 2_000), 'on time again once cleared and what was held is out')
  })

  await t.test('drop_connections: Bad with the reason, reconnects refused until cleared', async (t) => {
    const drop = inject({ fault: 'drop_connections' })
    t.ok(await until(() => get('state')?.quality === 'bad'), 'dropped: Bad')
    t.match(get('state')?.reason, /connection/, `with the reason (${get('state')?.reason})`)
    await sleep(2_000)
    t.notOk(m.collector.status().connected, 'reconnects are refused while the fault lasts')
    t.equal(get('state')?.quality, 'bad', 'and the signals stay Bad')
    t.equal(machine.server!.sessionCount, 0, 'server side: no session left')
    sim.clear(drop.id)
    t.ok(await until(everyGood), 'cleared: the collector reconnects, every signal good')
  })

  await t.test('stop_answering: Bad once the keep-alive watchdog gives up', async (t) => {
    const silent = inject({ fault: 'stop_answering' })
    const silentAt = Date.now()
    t.ok(await until(() => get('state')?.quality === 'bad', 40_000), 'a server that stops answering turns Bad')
    t.match(get('state')?.reason, /no publish response for \d+ ms/, 'found by the keep-alive watchdog, not by a closed socket')
    t.ok(Date.now() - silentAt >= 8_000, `after the watchdog's limit (${Date.now() - silentAt} ms)`)
    t.ok(machine.server!.sessionCount >= 1, 'server side: its session is still open — nothing was closed, the server just went quiet')
    sim.clear(silent.id)
    t.ok(await until(everyGood, 40_000), 'answers again: good')
  })
})

t.test('the Siemens S7-1500 screwdriver over Sign: namespace 3 symbolic nodes, a 32-bit counter that wraps, alarms and cycle bits', async (t) => {
  const m = await line(t, 'screw1', `    profile: ${profiles}/siemens-s7-1500-opcua.yaml\n    cycleTime: { mean: 2 }\n    failures: { mtbf: 30, mttr: 20, reasons: [121] }\n    measurements: [{ name: torque, mean: 4.2, sd: 0.05 }]\n`)
  const { sim, machine, get, since, until, everyGood, inject } = m
  const start = Date.now()
  t.ok(await until(everyGood), 'every signal arrives good over Sign / Basic256Sha256')
  t.same(
    Object.fromEntries(['state', 'good_count', 'cycle_done', 'torque', 'fault'].map((s) => [s, machine.server!.variable(s).dataType])),
    { state: 'Int32', good_count: 'UInt32', cycle_done: 'Boolean', torque: 'Double', fault: 'Boolean' },
    'server side: the data types the signals call for',
  )
  t.equal(machine.server!.variable('state').nodeId, 'ns=3;s="DB_Machine"."State"', 'the symbolic NodeId as the profile writes it, in namespace 3')
  t.ok(await until(() => since(start, 'state').some((s) => s.value === 0) && since(start, 'fault').some((s) => s.value === true)), 'breakdowns: state 0 (down) with the fault bit set')
  t.ok(await until(() => since(start, 'state').some((s) => s.value === 2)), 'and running (2) between them')
  const bits = () => since(start, 'cycle_done').map((s) => s.value)
  t.ok(await until(() => bits().includes(true) && bits().includes(false)), 'the cycle bit toggles with the parts')
  const torques = () => new Set(since(start, 'torque').map((s) => s.value))
  t.ok(await until(() => torques().size > 3), 'a new torque with the parts (sampled once a second, as the profile asks)')
  t.ok([...torques()].every((v) => Math.abs(Number(v) - 4.2) < 0.5), `around 4.2 Nm (${[...torques()].map((v) => Number(v).toFixed(3)).join(', ')})`)

  t.throws(() => inject({ fault: 'opcua_bad_status', status: 'BadSensorFailure', signal: 'nope' }), /has no signal 'nope'/, 'a bad status on a signal the profile lacks is refused')
  // At 20× a part takes 0.1 s and the profile publishes once a second: the machine holds still (a planned stop)
  // while the counter sits just below the wrap, or the collector would only ever see it after the wrap.
  sim.model.setPlannedStop('screw1', true)
  t.ok(await until(() => get('state')?.value === 6), 'planned stop (6): no more parts')
  inject({ fault: 'counter_wrap' })
  t.ok(await until(() => Number(get('good_count')?.value) > 4_294_967_290), 'the counter jumps to just before 2^32 − 1: a UInt32 on the wire')
  sim.model.setPlannedStop('screw1', false)
  t.ok(await until(() => Number(get('good_count')?.value) < 100), 'and wraps to zero once parts are made again')

  const skew = inject({ fault: 'clock_skew', skewMs: -600_000 })
  const before = Number(get('good_count')!.value)
  t.ok(await until(() => Number(get('good_count')?.value) > before && Number(get('good_count')?.timestamp) < Date.now() - 590_000), 'a clock ten minutes behind')
  sim.clear(skew.id)
})
