// End to end: a simulated Modbus machine runs, fails, micro-stops and scraps; the gateway's collector reads it; the API's OEE and loss tree are checked.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { loadConfig } from '../edge/config.ts'
import type { MachineState } from '../edge/core/model.ts'
import { plannedPeriods } from '../edge/core/oee/calendar.ts'
import { defaultReasons } from '../edge/core/oee/default-reasons.ts'
import { computeOee, type ProductionCount } from '../edge/core/oee/oee.ts'
import { reasonTree } from '../edge/core/oee/reasons.ts'
import { timeline, type Classification, type StateChange } from '../edge/core/oee/timeline.ts'
import { startGateway } from '../edge/main.ts'
import { dumpProjections, rebuildProjections } from '../edge/store/projections.ts'
import { ModbusMachine } from '../simulators/modbus/machine.ts'
import { LineSimulator } from '../simulators/runner.ts'
import { checkScenarioFile } from '../simulators/scenario.ts'
import { jsonClient } from './helpers/client.ts'
import { adminToken } from './helpers/gateway.ts'

const profiles = join(import.meta.dirname, '..', 'hardware-profiles')
const thresholdMs = 1500
const allDay = { id: 'utc-24h', timeZone: 'UTC', shifts: [{ name: 'day', days: [1, 2, 3, 4, 5, 6, 7], start: '00:00', end: '00:00', breaks: [] }], holidays: [], plannedDowntime: [] }

t.test('a simulated press through running, failures, micro-stops and scrap: OEE and loss tree from the API', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'takt-oee-machine-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  // Model time runs 20 times faster than the wall clock: a 2 s cycle is 100 ms, micro-stops of 8–12 s last 0.4–0.6 s.
  writeFileSync(
    join(dir, 's.yaml'),
    [
      'scenario: oee',
      'seed: 7',
      'timeScale: 20',
      'machines:',
      `  - name: press1`,
      `    profile: ${profiles}/generic-modbus-tcp-machine.yaml`,
      '    modbus: { port: 0, unitId: 1 }',
      '    cycleTime: { mean: 2 }',
      '    scrapRate: 0.1',
      '    failures: { mtbf: 100, mttr: 80 }',
      '    microStops: { mtbf: 40, min: 8, max: 12 }',
    ].join('\n'),
  )
  const loaded = checkScenarioFile(join(dir, 's.yaml'))
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems))
  const sim = new LineSimulator(loaded.loaded, (m, p) => new ModbusMachine(m, p), { tickMs: 20 })
  const endpoints = await sim.start()
  let simRunning = true
  t.teardown(async () => {
    if (simRunning) await sim.stop()
  })
  const port = Number(/:(\d+) /.exec(endpoints.press1!)![1])

  writeFileSync(join(dir, 'takt.yaml'), ['devices:', `  - { name: press1, workCenterId: WC-PRESS, profile: ${profiles}/generic-modbus-tcp-machine.yaml, host: 127.0.0.1, port: ${port}, unitId: 1 }`].join('\n'))
  const config = loadConfig({ file: join(dir, 'takt.yaml'), env: { TAKT_DATA_DIR: join(dir, 'data'), TAKT_HTTP_PORT: '0', TAKT_MQTT_PORT: '0', TAKT_LOG_LEVEL: 'silent', TAKT_ADMIN_TOKEN: adminToken } })
  const running = await startGateway(config)
  t.teardown(() => running.stop())
  const call = jsonClient(`http://127.0.0.1:${running.port}`, adminToken)
  const put = async (path: string, body: unknown) => {
    const r = await call('PUT', path, body)
    if (r.status !== 200) throw new Error(`${path}: ${r.status} ${JSON.stringify(r.body)}`)
  }
  const t0 = Date.now()
  for (const e of [
    { id: 'SITE', level: 'site', name: 'Plant', parentId: null },
    { id: 'AREA', level: 'area', name: 'Pressing', parentId: 'SITE' },
    { id: 'L1', level: 'line', name: 'Press line', parentId: 'AREA' },
    // The model's 2 s cycle, on the wall clock.
    { id: 'WC-PRESS', level: 'work_center', name: 'Press', parentId: 'L1', ratedCycleTimeS: 0.1 },
  ])
    await put(`/api/v1/equipment/${e.id}`, e)
  await put(`/api/v1/shift-calendars/${allDay.id}`, allDay)
  await put('/api/v1/equipment/L1/shift-calendar', { calendarId: allDay.id })
  await put('/api/v1/work-centers/WC-PRESS/oee/settings', { microStopThresholdMs: thresholdMs })

  const sqlite = running.gateway.store.db.sqlite
  const recorded = () => {
    const rows = sqlite.prepare(`SELECT seq, type, data, occurred_at FROM events WHERE type IN ('WorkCenterStateChanged', 'MachineCounted') ORDER BY seq`).all() as { seq: number; type: string; data: string; occurred_at: string }[]
    const changes: StateChange[] = []
    const counts: ProductionCount[] = []
    for (const r of rows) {
      const d = JSON.parse(r.data)
      if (r.type === 'WorkCenterStateChanged') changes.push({ at: Date.parse(r.occurred_at), state: d.state as MachineState, reason: null, seq: r.seq })
      else counts.push({ at: Date.parse(r.occurred_at), good: d.good, reject: d.reject, idealCycleTimeS: null })
    }
    return { changes, counts }
  }
  // Run until the machine has failed (a stop over the threshold), micro-stopped (one under it), scrapped, and run again after the failure.
  const enough = () => {
    const { changes, counts } = recorded()
    const ivs = timeline(changes)
    const failure = ivs.find((iv) => iv.state === 'down' && iv.stopStart && iv.settled && (iv.downRunMs ?? 0) >= thresholdMs)
    return Boolean(failure && ivs.some((iv) => iv.state === 'down' && (iv.downRunMs ?? 0) < thresholdMs) && counts.some((c) => c.reject > 0) && ivs.some((iv) => iv.state === 'running' && iv.from >= failure.to))
  }
  const deadline = Date.now() + 90_000
  while (!enough() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100))
  await sim.stop()
  simRunning = false
  await new Promise((r) => setTimeout(r, 300))

  const { changes, counts } = recorded()
  const ivs = timeline(changes)
  const failure = ivs.find((iv) => iv.state === 'down' && iv.stopStart && (iv.downRunMs ?? 0) >= thresholdMs)
  t.ok(failure, 'the press failed for longer than the threshold')
  t.ok(ivs.some((iv) => iv.state === 'down' && (iv.downRunMs ?? 0) < thresholdMs), 'and micro-stopped')
  t.ok(counts.some((c) => c.reject > 0), 'and scrapped parts')
  // The end of the range lies inside a running interval that is over: nothing later can change what lies before it.
  const lastRun = ivs.filter((iv) => iv.state === 'running' && iv.to > failure!.to).at(-1)!
  const to = Math.floor((lastRun.from + lastRun.to) / 2)
  const tree = reasonTree(defaultReasons)
  const raw = (classifications: Classification[]) =>
    computeOee({ periods: plannedPeriods(allDay, t0, to), intervals: timeline(changes, classifications, Date.now()), counts, workCenterRatedCycleTimeS: 0.1, microStopThresholdMs: thresholdMs, reasons: tree })
  const query = `/api/v1/oee?workCenterId=WC-PRESS&from=${new Date(t0).toISOString()}&to=${new Date(to).toISOString()}`

  const before = await call('GET', query)
  t.equal(before.status, 200)
  t.same(before.body.oee, raw([]), 'the API reports exactly the OEE computed from the raw timeline of the recorded events')
  const o = before.body.oee
  t.ok(o.availability > 0 && o.availability < 1, `availability ${o.availability} below 100 %: the failure`)
  t.ok(o.quality > 0 && o.quality < 1, `quality ${o.quality} below 100 %: the scrap`)
  t.ok(o.losses.performance.smallStops >= 1, `${o.losses.performance.smallStops} small stops in performance`)
  t.ok(Math.abs(o.availability * o.performance * o.quality - o.oee) < 1e-12, 'A × P × Q = OEE')
  t.match(o.losses.availability.byReason, [{ code: null, loss: 'breakdown' }], 'the unexplained failure under availability')
  t.equal(o.losses.availability.byLoss.breakdown + o.losses.availability.byLoss.no_data, o.losses.availability.ms)

  // The operator classifies the failure from the stop's start; the loss tree moves it under its reason.
  const classified = await call('POST', '/api/v1/work-centers/WC-PRESS/downtime/classify', { from: new Date(failure!.from).toISOString(), reason: 'failure.mechanical', why: 'ram jammed' })
  t.equal(classified.status, 201, JSON.stringify(classified.body))
  const after = await call('GET', query)
  const expected = raw([{ from: failure!.from, to: failure!.to, reason: 'failure.mechanical' }])
  t.same(after.body.oee, expected, 'and equals the raw computation with the classification')
  const mech = after.body.oee.losses.availability.byReason.find((l: { code: string | null }) => l.code === 'failure.mechanical')
  t.match(mech, { name: 'Mechanical failure', loss: 'breakdown', stops: 1, ms: failure!.to - failure!.from }, 'the classified failure in the loss tree')
  t.equal(after.body.oee.oee, o.oee, 'classifying does not change OEE')

  const current = await call('GET', '/api/v1/work-centers/WC-PRESS/oee/current')
  t.match(current.body, { calendarId: allDay.id, shift: { name: 'day' } })
  t.ok(current.body.oee.counts.total >= o.counts.total, 'the live value counts at least what the range did')

  await running.gateway.store.submit('test', () => ({ ok: true, events: [], result: null }))
  const live = dumpProjections(sqlite)
  rebuildProjections(sqlite)
  t.same(dumpProjections(sqlite), live, 'a rebuild from the log equals the live projections')
})
