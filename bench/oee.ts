// OEE benchmarks: a year of one-second state changes with its loss tree from the store's buckets; a machine signal to the live OEE on the UNS.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import mqtt from 'mqtt'
import { hashPassword } from '../edge/api/passwords.ts'
import { loadConfig } from '../edge/config.ts'
import { recordMachineCount, recordMachineState } from '../edge/core/machine.ts'
import { defineEquipment } from '../edge/core/master-data.ts'
import type { Equipment, MachineState } from '../edge/core/model.ts'
import { assignShiftCalendar, defineShiftCalendar, setMicroStopThreshold } from '../edge/core/oee-commands.ts'
import { plannedPeriods, type ShiftCalendar } from '../edge/core/oee/calendar.ts'
import { computeOee, type ProductionCount } from '../edge/core/oee/oee.ts'
import type { OeeResult } from '../edge/core/oee/result.ts'
import { timeline, type StateChange } from '../edge/core/oee/timeline.ts'
import { buildGateway, type Gateway } from '../edge/gateway.ts'
import { startGateway } from '../edge/main.ts'
import type { Decide } from '../edge/store/line-store.ts'
import { OeeQueries } from '../edge/store/oee-queries.ts'
import { tempDir } from './lib/cleanup.ts'
import type { BenchResult } from './lib/figures.ts'
import { ms, summarize } from './lib/stats.ts'

const log = (message: string) => process.stdout.write(`  ${message}\n`)
const DAY = 86_400_000
const YEAR_START = Date.parse('2026-01-05T00:00:00Z')
const adminToken = 'bench-admin-token-0123456789abcdef'

const equipment: Equipment[] = [
  { id: 'SITE', level: 'site', name: 'Plant', parentId: null, ratedCycleTimeS: null },
  { id: 'AREA', level: 'area', name: 'Area', parentId: 'SITE', ratedCycleTimeS: null },
  { id: 'L1', level: 'line', name: 'Line', parentId: 'AREA', ratedCycleTimeS: null },
  { id: 'WC-1', level: 'work_center', name: 'Press', parentId: 'L1', ratedCycleTimeS: 2 },
]

/** Three shifts in Berlin (DST changes included), breaks, a holiday, and planned downtime at an odd instant on the first day. */
const calendar: ShiftCalendar = {
  id: 'berlin-3',
  timeZone: 'Europe/Berlin',
  shifts: [
    { name: 'early', days: [1, 2, 3, 4, 5, 6], start: '06:00', end: '14:00', breaks: [{ start: '09:00', end: '09:15' }, { start: '11:30', end: '12:00' }] },
    { name: 'late', days: [1, 2, 3, 4, 5, 6], start: '14:00', end: '22:00', breaks: [{ start: '18:00', end: '18:30' }] },
    { name: 'night', days: [1, 2, 3, 4, 5, 7], start: '22:00', end: '06:00', breaks: [{ start: '02:00', end: '02:30' }] },
  ],
  holidays: ['2026-12-25', '2026-12-26'],
  plannedDowntime: [{ from: '2026-01-05T10:00:07.250Z', to: '2026-01-05T10:40:00Z', reason: 'planned maintenance' }],
}

function random(seed: number): () => number {
  let a = seed
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function define(gateway: Gateway): void {
  const run = <R>(decide: Decide<R>) => {
    const done = gateway.store.execute('system:bench', decide)
    if (!done.ok) throw new Error(`bench seed refused: ${done.rejection.message}`)
  }
  for (const e of equipment) run((v) => defineEquipment(v, e))
  run(() => defineShiftCalendar(calendar))
  run((v) => assignShiftCalendar(v, new Set([calendar.id]), 'L1', calendar.id))
}

/** One real day through the store: a state change every second (where the state differs), a count every ten; returns ms per command. */
async function seedDay(gateway: Gateway): Promise<{ perCommandUs: number; changes: number; counts: number }> {
  const next = random(7)
  const states: MachineState[] = ['running', 'running', 'running', 'running', 'down', 'idle', 'starved', 'setup']
  const started = performance.now()
  let pending: Promise<unknown>[] = []
  let commands = 0
  for (let s = 0; s < 86_400; s++) {
    const state = states[Math.floor(next() * states.length)]!
    pending.push(gateway.store.submit('device:bench', (v) => recordMachineState(v, 'WC-1', state, 'bench'), new Date(YEAR_START + s * 1000).toISOString()))
    commands++
    if (s % 10 === 0) {
      const good = Math.floor(next() * 6)
      const reject = next() < 0.2 ? 1 : 0
      pending.push(gateway.store.submit('device:bench', (v) => recordMachineCount(v, 'WC-1', good, reject, 'bench'), new Date(YEAR_START + s * 1000 + 500).toISOString()))
      commands++
    }
    if (pending.length >= 2000) {
      await Promise.all(pending)
      pending = []
    }
  }
  await Promise.all(pending)
  const elapsed = performance.now() - started
  const sqlite = gateway.store.db.sqlite
  const n = (sql: string) => (sqlite.prepare(sql).get() as { n: number }).n
  return { perCommandUs: (elapsed * 1000) / commands, changes: n('SELECT COUNT(*) AS n FROM oee_state_changes'), counts: n('SELECT COUNT(*) AS n FROM oee_counts') }
}

/** Days 2–365 hold the first day's buckets, moved by whole days: the store's tables as a year of data would leave them. */
function copyYear(gateway: Gateway): number {
  const sqlite = gateway.store.db.sqlite
  const copy = sqlite.prepare('INSERT INTO oee_buckets (work_center_id, unit, start, ms, stops, counts) SELECT work_center_id, unit, start + ?, ms, stops, counts FROM oee_buckets WHERE work_center_id = ? AND start >= ? AND start < ?')
  sqlite.transaction(() => {
    for (let d = 1; d < 365; d++) copy.run(d * DAY, 'WC-1', YEAR_START, YEAR_START + DAY)
  })()
  return (sqlite.prepare('SELECT COUNT(*) AS n FROM oee_buckets').get() as { n: number }).n
}

/** Wall and CPU time of each round (CPU: this process's, so that busy neighbours on a shared machine show as the gap between them). */
function timeIt<T>(task: () => T, rounds: number): { times: number[]; cpu: number[]; value: T } {
  let value = task()
  const times: number[] = []
  const cpu: number[] = []
  for (let i = 0; i < rounds; i++) {
    const started = performance.now()
    const used = process.cpuUsage()
    value = task()
    const spent = process.cpuUsage(used)
    times.push(performance.now() - started)
    cpu.push((spent.user + spent.system) / 1000)
  }
  return { times, cpu, value }
}

export async function benchOeeYear(options: { rounds?: number } = {}): Promise<BenchResult> {
  const rounds = options.rounds ?? 7
  const dir = tempDir('oee')
  const gateway = buildGateway(loadConfig({ env: { TAKT_DATA_DIR: dir.path, TAKT_LOG_LEVEL: 'silent', TAKT_ADMIN_TOKEN: adminToken } }))
  try {
    define(gateway)
    const seed = await seedDay(gateway)
    log(`one real day through the store: ${seed.changes} state changes and ${seed.counts} counts, ${seed.perCommandUs.toFixed(0)} µs per command with its OEE projection (untimed setup)`)
    const rows = copyYear(gateway)
    log(`the year: ${rows.toLocaleString('en-US')} bucket rows`)
    const queries = new OeeQueries(gateway.store.db.sqlite)
    const center = queries.workCenter('WC-1')!
    const year = { from: YEAR_START, to: YEAR_START + 365 * DAY, now: YEAR_START + 365 * DAY + 3_600_000 }

    // Sanity: on the one real day the store's answer is the raw computation's.
    const sqlite = gateway.store.db.sqlite
    const changes: StateChange[] = (sqlite.prepare('SELECT at_ms, event_seq, state FROM oee_state_changes ORDER BY at_ms, event_seq').all() as { at_ms: number; event_seq: number; state: MachineState }[]).map((r) => ({ at: r.at_ms, state: r.state, reason: null, seq: r.event_seq }))
    const counts: ProductionCount[] = (sqlite.prepare('SELECT at_ms, good, reject FROM oee_counts ORDER BY at_ms').all() as { at_ms: number; good: number; reject: number }[]).map((r) => ({ at: r.at_ms, good: r.good, reject: r.reject, idealCycleTimeS: null }))
    const day = { from: YEAR_START, to: YEAR_START + DAY, now: YEAR_START + DAY }
    const tree = queries.read.tree()
    const rawDay = () => computeOee({ periods: plannedPeriods(calendar, day.from, day.to), intervals: timeline(changes, [], day.now), counts, workCenterRatedCycleTimeS: 2, microStopThresholdMs: queries.read.threshold('WC-1'), reasons: tree })
    const fromStore = queries.workCenterOee(center, day) as OeeResult
    if (JSON.stringify(fromStore) !== JSON.stringify(rawDay())) throw new Error('the store and the raw computation disagree on the real day')

    const whole = timeIt(() => queries.workCenterOee(center, year) as OeeResult, rounds)
    const byShift = timeIt(() => queries.workCenterOee(center, year, 'shift') as unknown[], 3)
    const aggregate = sqlite.prepare('SELECT COUNT(*) AS n, SUM(LENGTH(ms) + LENGTH(stops) + LENGTH(counts)) AS bytes FROM oee_buckets WHERE work_center_id = ? AND unit = 60000 AND start >= ? AND start < ?')
    const scan = timeIt(() => aggregate.get('WC-1', year.from, year.to) as { n: number; bytes: number }, rounds)
    const raw = timeIt(rawDay, rounds)
    const y = whole.value
    const w = summarize(whole.times)
    const wc = summarize(whole.cpu)
    const sh = summarize(byShift.times)
    const sc = summarize(scan.times)
    const rd = summarize(raw.times)
    log(`a year: OEE ${(y.oee! * 100).toFixed(2)} %, ${y.losses.availability.byReason.length} stop lines, ${byShift.value.length} shifts; p50 ${ms(w.p50)} ms wall, ${ms(wc.p50)} ms CPU; by shift ${ms(sh.p50)} ms`)
    log(`peers: SQL scan of the year's ${scan.value.n.toLocaleString('en-US')} minute rows ${ms(sc.p50)} ms; raw computeOee of one day ${ms(rd.p50)} ms (× 365 = ${ms(rd.p50 * 365)} ms)`)
    return {
      title: 'OEE with its loss tree: one work center, a year of one-second state changes',
      notes: [
        `One real day (${seed.changes.toLocaleString('en-US')} state changes, ${seed.counts.toLocaleString('en-US')} counts) went through the gateway's store as commands (group-committed), each updating the OEE projection in its transaction: ${seed.perCommandUs.toFixed(0)} µs per command including the commit. ` +
          `Days 2–365 are that day's bucket rows moved by whole days (${rows.toLocaleString('en-US')} rows in all), as a year of the same data would leave the table. Calendar: three shifts in Europe/Berlin with breaks, both DST changes, holidays, planned downtime at an odd instant. ` +
          'On the real day the store\u2019s answer was checked equal to computeOee over the raw timeline before timing.',
        `Timed: \`OeeQueries.workCenterOee\` over the year (calendar, bucket reads from SQLite, raw edges and tail, loss tree), ${w.count} rounds after one untimed. By shift: all ${byShift.value.length} shifts of the year. ` +
          `Peers in the same run: a plain SQL aggregate that only reads the year's minute rows (COUNT and SUM of lengths), and computeOee over one day's raw timeline, which over a year would take about 365 times as long.`,
      ],
      figures: [
        { label: 'OEE of a year with loss tree, p50 (wall)', value: w.p50, unit: 'ms', digits: 1, target: { kind: 'max', value: 1000 } },
        { label: 'OEE of a year with loss tree, CPU time p50', value: wc.p50, unit: 'ms', digits: 1, target: { kind: 'max', value: 1000 } },
        { label: 'OEE of a year with loss tree, max (wall)', value: w.max, unit: 'ms', digits: 1 },
        { label: `OEE of each of the year's ${byShift.value.length} shifts, p50`, value: sh.p50, unit: 'ms', digits: 1 },
        { label: "Peer: SQL aggregate over the year's minute rows, p50", value: sc.p50, unit: 'ms', digits: 1 },
        { label: 'Ratio: year query / SQL aggregate of minute rows', value: w.p50 / sc.p50, unit: '×', digits: 2 },
        { label: 'Peer: raw computeOee of one day, p50', value: rd.p50, unit: 'ms', digits: 1 },
        { label: 'Ratio: raw computeOee × 365 / year query', value: (rd.p50 * 365) / w.p50, unit: '×', digits: 1 },
        { label: 'Projection: one state change or count, committed', value: seed.perCommandUs, unit: 'µs', digits: 0 },
      ],
    }
  } finally {
    gateway.close()
    await dir.remove()
  }
}

const allDay: ShiftCalendar = { id: 'utc-24h', timeZone: 'UTC', shifts: [{ name: 'day', days: [1, 2, 3, 4, 5, 6, 7], start: '00:00', end: '00:00', breaks: [] }], holidays: [], plannedDowntime: [] }

/** A device publishes a state over MQTT; the time until the work center's live OEE (and, as the peer, its state) arrives on the UNS. */
export async function benchOeeLive(options: { samples?: number } = {}): Promise<BenchResult> {
  const samples = options.samples ?? 20
  const dir = tempDir('oee-live')
  const profile = join(import.meta.dirname, '..', 'hardware-profiles', 'mqtt-json-sensor.yaml')
  writeFileSync(
    join(dir.path, 'takt.yaml'),
    [
      'mqtt:',
      '  host: 127.0.0.1',
      '  accounts:',
      `    - { username: press, passwordHash: "${await hashPassword('press-secret')}", publish: ["devices/\${username}/#"] }`,
      `    - { username: board, passwordHash: "${await hashPassword('board-secret')}", subscribe: ["SITE/#"] }`,
      'devices:',
      `  - { name: press, workCenterId: WC-1, profile: ${profile} }`,
    ].join('\n'),
  )
  const config = loadConfig({ file: join(dir.path, 'takt.yaml'), env: { TAKT_DATA_DIR: dir.path, TAKT_HTTP_PORT: '0', TAKT_MQTT_PORT: '0', TAKT_LOG_LEVEL: 'silent', TAKT_ADMIN_TOKEN: adminToken } })
  const running = await startGateway(config)
  const clients: mqtt.MqttClient[] = []
  try {
    const gateway = running.gateway
    for (const e of equipment) gateway.store.execute('system:bench', (v) => defineEquipment(v, e))
    gateway.store.execute('system:bench', () => defineShiftCalendar(allDay))
    gateway.store.execute('system:bench', (v) => assignShiftCalendar(v, new Set([allDay.id]), 'L1', allDay.id))
    gateway.store.execute('system:bench', (v) => setMicroStopThreshold(v, 'WC-1', 120_000))
    const url = `mqtt://127.0.0.1:${running.connectivity.ports.mqtt}`
    const board = await mqtt.connectAsync(url, { username: 'board', password: 'board-secret', protocolVersion: 4, reconnectPeriod: 0 })
    const device = await mqtt.connectAsync(url, { username: 'press', password: 'press-secret', protocolVersion: 4, reconnectPeriod: 0 })
    clients.push(board, device)
    let waiting: { sent: number; oee: number | null; state: number | null; stops: number | null } | null = null
    board.on('message', (topic, payload) => {
      if (!waiting) return
      const at = performance.now()
      if (topic.endsWith('/state') && waiting.state === null) waiting.state = at - waiting.sent
      if (topic.endsWith('/oee') && waiting.oee === null) {
        waiting.oee = at - waiting.sent
        const body = JSON.parse(payload.toString()) as { oee: OeeResult | null }
        // A short stop is a small stop (performance), a long one a stop under availability: count both.
        const losses = body.oee?.losses
        waiting.stops = losses ? losses.availability.byReason.reduce((s, l) => s + l.stops, 0) + losses.performance.smallStops : null
      }
    })
    await board.subscribeAsync(['SITE/AREA/L1/WC-1/oee', 'SITE/AREA/L1/WC-1/state'], { qos: 1 })
    const oeeTimes: number[] = []
    const stateTimes: number[] = []
    let lastStops = -1
    // Spaced beyond the publisher's 1 s throttle, so each sample measures the path, not the throttle.
    for (let i = 0; i < samples + 2; i++) {
      await new Promise((r) => setTimeout(r, 1100))
      const state = i % 2 === 0 ? 'fault' : 'run'
      const current = { sent: performance.now(), oee: null, state: null, stops: null }
      waiting = current
      await device.publishAsync('devices/press/status', JSON.stringify({ state }), { qos: 1 })
      const deadline = performance.now() + 5000
      while ((current.oee === null || current.state === null) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 1))
      waiting = null
      if (current.oee === null || current.state === null) throw new Error(`sample ${i}: no ${current.oee === null ? 'OEE' : 'state'} message within 5 s`)
      if (state === 'fault') {
        if (lastStops >= 0 && current.stops !== lastStops + 1) throw new Error(`sample ${i}: the live OEE shows ${current.stops} stops, expected ${lastStops + 1}`)
        lastStops = current.stops ?? 0
      }
      // The first two warm the path up.
      if (i >= 2) {
        oeeTimes.push(current.oee)
        stateTimes.push(current.state)
      }
    }
    const o = summarize(oeeTimes)
    const s = summarize(stateTimes)
    log(`signal → live OEE on the UNS: p50 ${ms(o.p50)} ms, max ${ms(o.max)} ms; signal → state topic (peer): p50 ${ms(s.p50)} ms`)
    return {
      title: 'From a machine signal to the updated live OEE',
      notes: [
        `A device publishes its state (alternately fault and run) as MQTT JSON (QoS 1) to the gateway's embedded broker; the gateway's collector and signal rules record the state change, the commit updates the OEE projection, and the live OEE of the current shift is computed and published retained on \`SITE/AREA/L1/WC-1/oee\`. ` +
          `Timed: from the device's publish to the subscriber receiving the OEE message, ${o.count} samples after two untimed, spaced 1.1 s apart (beyond the publisher's 1 s throttle). Each fault's message was checked to count one more stop. ` +
          'Peer in the same run: the same path to the work center\u2019s `state` topic, published by the UNS publisher right after the commit with no OEE work. Gateway, device and subscriber share one process.',
      ],
      figures: [
        { label: 'Signal to live OEE on the UNS, p50', value: o.p50, unit: 'ms', digits: 1, target: { kind: 'max', value: 1000 } },
        { label: 'Signal to live OEE on the UNS, max', value: o.max, unit: 'ms', digits: 1, target: { kind: 'max', value: 1000 } },
        { label: 'Peer: signal to the state topic, p50', value: s.p50, unit: 'ms', digits: 1 },
        { label: 'Ratio: OEE / state, p50', value: o.p50 / s.p50, unit: '×', digits: 2 },
      ],
    }
  } finally {
    for (const c of clients) await c.endAsync()
    await running.stop()
    await dir.remove()
  }
}
