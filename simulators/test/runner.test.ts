// The scenario runner and its control endpoint: model time at the scale, faults on time and live, over real HTTP.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { startControl } from '../control.ts'
import { LineSimulator, type DeviceImage, type MachineAdapter } from '../runner.ts'
import { checkScenarioFile, type Fault } from '../scenario.ts'

const profiles = join(import.meta.dirname, '..', '..', 'hardware-profiles')

/** Records what the runner hands a machine's protocol side (the real adapters have their own tests). */
class RecordingAdapter implements MachineAdapter {
  images: DeviceImage[] = []
  faults: Array<[Fault['fault'], boolean]> = []
  async start() {
    return 'test://machine'
  }
  update(image: DeviceImage) {
    this.images.push(image)
  }
  fault(f: Fault, on: boolean) {
    this.faults.push([f.fault, on])
  }
  async stop() {}
}

function scenario(t: { teardown(fn: () => void): void }, faults: string) {
  const dir = mkdtempSync(join(tmpdir(), 'takt-sim-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, 's.yaml')
  writeFileSync(file, `scenario: t\nseed: 3\ntimeScale: 60\nmachines:\n  - name: press\n    profile: ${profiles}/generic-modbus-tcp-machine.yaml\n    modbus: { port: 0 }\n    cycleTime: { mean: 10 }\n  - name: filler\n    profile: ${profiles}/packml-opcua-machine.yaml\n    opcua: { port: 0 }\n    cycleTime: { mean: 5 }\nfaults:\n${faults}`)
  const result = checkScenarioFile(file)
  if (!result.ok) throw new Error(JSON.stringify(result.problems))
  return result.loaded
}

async function simulator(t: { teardown(fn: () => Promise<void> | void): void }, faults = '  []\n') {
  let wall = 1_000_000
  const adapters = new Map<string, RecordingAdapter>()
  const sim = new LineSimulator(scenario(t, faults), (m) => {
    const a = new RecordingAdapter()
    adapters.set(m.name, a)
    return a
  }, { now: () => wall })
  await sim.start()
  t.teardown(() => sim.stop())
  return { sim, adapters, advance: (ms: number) => ((wall += ms), sim.tick()) }
}

t.test('model time runs at the scale; every tick hands each machine its device image', async (t) => {
  const { sim, adapters, advance } = await simulator(t)
  advance(10_000)
  t.equal(sim.modelTime(), 600_000, '10 s of wall time at 60× is 10 minutes of model time')
  t.equal(sim.model.snapshot('press').processed, 60, 'ten minutes at 10 s per part')
  t.equal(adapters.get('press')!.images.at(-1)!.get('good_count'), 60)
  t.equal(adapters.get('filler')!.images.at(-1)!.get('state'), 6, 'the PackML machine reads Execute')
  t.same(sim.endpoints, { press: 'test://machine', filler: 'test://machine' })
})

t.test('scheduled faults start and end on model time; model faults change the counters', async (t) => {
  const { sim, adapters, advance } = await simulator(t, '  - { at: 60, machine: press, fault: stop_answering, duration: 120 }\n  - { at: 300, machine: press, fault: counter_reset }\n  - { at: 400, machine: filler, fault: counter_wrap }\n')
  advance(500)
  t.same(adapters.get('press')!.faults, [], 'not before its time')
  advance(1000)
  t.same(adapters.get('press')!.faults, [['stop_answering', true]], 'on at 60 s of model time')
  t.equal(sim.faults().length, 1)
  advance(2000)
  t.same(adapters.get('press')!.faults, [['stop_answering', true], ['stop_answering', false]], 'off after 120 s')
  advance(1500)
  t.ok(sim.model.snapshot('press').processed < 10, `the counter reset to zero and counts again (${sim.model.snapshot('press').processed})`)
  advance(2000)
  const processed = adapters.get('filler')!.images.at(-1)!.get('processed_count') as number
  t.ok(processed > 2147483647 - 20 || processed < 20, `the total counter is at its wrap (${processed})`)
})

t.test('the control endpoint: live faults over HTTP, refused ones with the reason, planned stops, status', async (t) => {
  const { sim, adapters, advance } = await simulator(t)
  const { server, url } = await startControl(sim, '127.0.0.1', 0)
  t.teardown(() => new Promise<void>((r) => server.close(() => r())))
  const post = (path: string, body: unknown) => fetch(url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  const created = await post('/faults', { machine: 'press', fault: 'modbus_exception', code: 2 })
  t.equal(created.status, 201)
  const { id } = (await created.json()) as { id: number }
  t.same(adapters.get('press')!.faults, [['modbus_exception', true]])
  const refused = await post('/faults', { machine: 'filler', fault: 'modbus_exception', code: 2 })
  t.equal(refused.status, 422)
  t.match(await refused.json(), { code: 'fault_refused', detail: /needs a Modbus machine; 'filler' is not one/ })
  const invalid = await post('/faults', { machine: 'press', fault: 'meltdown' })
  t.equal(invalid.status, 422)
  t.match(await invalid.json(), { code: 'fault_invalid', errors: [{ path: 'fault' }] })
  t.equal((await fetch(`${url}/faults/${id}`, { method: 'DELETE' })).status, 204)
  t.same(adapters.get('press')!.faults, [['modbus_exception', true], ['modbus_exception', false]])
  t.equal((await fetch(`${url}/faults/${id}`, { method: 'DELETE' })).status, 404, 'a cleared fault is gone')
  const stop = await post('/machines/press/planned-stop', { on: true })
  t.equal(stop.status, 200)
  advance(30_000)
  const status = (await (await fetch(`${url}/status`)).json()) as { machines: Array<{ name: string; state: string }>; faults: unknown[] }
  t.equal(status.machines.find((m) => m.name === 'press')!.state, 'planned_stop')
  t.same(status.faults, [])
  t.equal((await post('/machines/nope/planned-stop', { on: true })).status, 404)
  t.equal((await fetch(`${url}/faults`, { method: 'POST', body: '{nope' })).status, 400)
})
