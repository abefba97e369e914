// The central views' contract, run on both central databases: OEE, WIP, genealogy across lines, gateway states, refusals, and a rebuild that gives the same rows.
import type { Test } from 'tap'
import { sql } from 'drizzle-orm'
import { bucketsFrom, computeOee, reasonTree, defaultReasons, timeline, type ProductionCount, type StateChange } from '../../edge/core/oee/index.ts'
import type { MachineState } from '../../edge/core/model.ts'
import { connectionState, onlineWithinMs, staleWithinMs } from '../central-routes.ts'
import { rowsOf } from '../projections/central-event.ts'
import { readCounts } from '../projections/oee-buckets.ts'
import { projectionTables, rebuildCentralProjections } from '../projections/rebuild.ts'
import type { CloudOrm } from '../database.ts'
import type { Backend } from './backends.ts'
import { centralFixture, recordTwoLines, type CentralFixture } from './central-fixture.ts'
import { gatewayMinuteBuckets, recordCompletion, recordCount, recordOrderAt, recordPause, recordResume, recordStart, recordState, recordThreshold } from './line.ts'

const hour = { from: '2026-03-02T06:00:00Z', to: '2026-03-02T07:00:00Z' }

async function twoLines(t: Test, backend: Backend, perPush = 2000): Promise<CentralFixture> {
  const f = await centralFixture(t, backend.open)
  const t1 = await f.register('gw-1', 'L1')
  const t2 = await f.register('gw-2', 'L2')
  recordTwoLines(f)
  await f.pushAll('gw-1', t1, f.lines.l1, perPush)
  await f.pushAll('gw-2', t2, f.lines.l2, perPush)
  return f
}

function figures(x: Record<string, any>) {
  return { availability: x.availability, performance: x.performance, quality: x.quality, oee: x.oee }
}

/** Every projection row, sorted, with the columns as text: what a rebuild must give again. */
async function snapshot(orm: CloudOrm): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {}
  for (const table of projectionTables) {
    const rows = await rowsOf<{ row: string }>(orm, sql.raw(`SELECT t::text AS row FROM ${table} t ORDER BY 1`))
    out[table] = rows.map((r) => r.row)
  }
  return out
}

async function rawTimeline(orm: CloudOrm, gatewayId: string, workCenterId: string): Promise<{ changes: StateChange[]; counts: ProductionCount[] }> {
  const rows = await rowsOf<{ at: number; seq: number; state: string; reason: string | null }>(
    orm,
    sql`SELECT at_ms::float8 AS at, seq::float8 AS seq, state, reason FROM central_state_changes WHERE gateway_id = ${gatewayId} AND work_center_id = ${workCenterId} ORDER BY at_ms, seq`,
  )
  return { changes: rows.map((r) => ({ ...r, state: r.state as MachineState })), counts: await readCounts(orm, gatewayId, workCenterId) }
}

export function centralSuite(t: Test, backend: Backend): void {
  t.test('OEE per work center and per line over two lines, from the central buckets', async (t) => {
    const f = await twoLines(t, backend)
    const r = await f.call(`/api/v1/oee?from=${hour.from}&to=${hour.to}`)
    t.equal(r.status, 200, r.status === 200 ? 'answered' : JSON.stringify(r.body))
    t.same(
      r.body.lines.map((l: Record<string, any>) => [l.gatewayId, l.lineId, l.workCenters.map((w: Record<string, any>) => w.workCenterId)]),
      [
        ['gw-1', 'L1', ['L1-FILL']],
        ['gw-2', 'L2', ['L2-PACK']],
      ],
    )
    const [l1, l2] = r.body.lines
    const close = (got: Record<string, number>, want: Record<string, number>, what: string) => {
      for (const k of Object.keys(want)) t.ok(Math.abs(got[k]! - want[k]!) < 1e-9, `${what} ${k}: ${got[k]} ≈ ${want[k]}`)
    }
    // L1-FILL: down 06:40–06:50; 200 counted, 190 good, ideal 10 s.
    close(figures(l1.workCenters[0]), { availability: 3000 / 3600, performance: 2000 / 3000, quality: 190 / 200, oee: 1900 / 3600 }, 'L1-FILL')
    t.same([l1.workCenters[0].plannedMs, l1.workCenters[0].runMs, l1.workCenters[0].counts], [3_600_000, 3_000_000, { total: 200, good: 190, reject: 10 }])
    // L2-PACK: a 1-minute stop is a small stop (run time); the operator's completions count, ideal 20 s.
    close(figures(l2.workCenters[0]), { availability: 1, performance: 3120 / 3600, quality: 151 / 156, oee: 3020 / 3600 }, 'L2-PACK')
    close(figures(l1), figures(l1.workCenters[0]), 'line L1')
    t.match(r.body.plannedTime, /the whole range where none is assigned/)

    const one = await f.call(`/api/v1/oee?from=${hour.from}&to=${hour.to}&lineId=L2&workCenterId=L2-PACK`)
    t.same(one.body.lines.map((l: Record<string, any>) => l.lineId), ['L2'], 'filtered by line')
    const none = await f.call(`/api/v1/oee?from=${hour.from}&to=${hour.to}&workCenterId=NOPE`)
    t.same(none.body.lines, [], 'an unknown work center has no figures')
  })

  t.test('OEE over a range with sub-minute edges equals computeOee over the raw timeline', async (t) => {
    const f = await twoLines(t, backend, 3)
    const tree = reasonTree(defaultReasons)
    for (const [from, to] of [
      ['2026-03-02T06:10:30Z', '2026-03-02T06:45:10Z'],
      ['2026-03-02T05:59:59.500Z', '2026-03-02T06:59:30Z'],
      ['2026-03-02T06:39:00Z', '2026-03-02T08:00:00Z'],
    ] as const) {
      const r = await f.call(`/api/v1/oee?from=${from}&to=${to}`)
      t.equal(r.status, 200)
      for (const line of r.body.lines) {
        const wc = line.workCenters[0]
        const raw = await rawTimeline(f.test.db.orm, line.gatewayId, wc.workCenterId)
        const want = computeOee({ periods: [{ from: Date.parse(from), to: Date.parse(to) }], intervals: timeline(raw.changes, [], Date.now()), counts: raw.counts, workCenterRatedCycleTimeS: null, microStopThresholdMs: 120_000, reasons: tree })
        t.same(figures(wc), figures(want), `${wc.workCenterId} ${from}–${to}`)
        t.equal(wc.runMs, want.runMs)
      }
    }
  })

  t.test('pushed in pushes of 3 events, the buckets are those of the whole timeline, and a rebuild from the events gives the same rows', async (t) => {
    const f = await twoLines(t, backend, 3)
    const { orm } = f.test.db
    for (const [gw, wc] of [
      ['gw-1', 'L1-FILL'],
      ['gw-2', 'L2-PACK'],
    ] as const) {
      const raw = await rawTimeline(orm, gw, wc)
      const want = [...bucketsFrom(timeline(raw.changes), raw.counts, 120_000)].map(([start, b]) => [start, b.ms, b.stops, b.counts]).sort((a, b) => (a[0] as number) - (b[0] as number))
      const rows = await rowsOf<{ start: number; ms: string; stops: string; counts: string }>(orm, sql`SELECT start::float8 AS start, ms, stops, counts FROM central_oee_buckets WHERE gateway_id = ${gw} AND work_center_id = ${wc} AND unit = 60000 ORDER BY start`)
      t.same(rows.map((r) => [r.start, JSON.parse(r.ms), JSON.parse(r.stops), JSON.parse(r.counts)]), want, `${wc}: minute buckets as bucketsFrom over the whole timeline`)
      t.same(want, gatewayMinuteBuckets(gw === 'gw-1' ? f.lines.l1 : f.lines.l2, wc), `${wc}: the gateway's own buckets`)
    }
    const before = await snapshot(orm)
    t.ok(before.central_oee_buckets!.length > 0 && before.central_consumptions!.length === 3 && before.central_units!.length === 2, 'the projections hold rows')
    const rebuilt = await rebuildCentralProjections(orm)
    t.equal(rebuilt.events, f.lines.l1.head().seq + f.lines.l2.head().seq)
    t.same(await snapshot(orm), before, 'a rebuild from the stored events gives the same rows')
  })

  t.test('late state changes in later pushes and a new micro-stop threshold: the buckets still follow the whole timeline', async (t) => {
    const f = await twoLines(t, backend, 5)
    const { orm } = f.test.db
    const { l2, clock2 } = f.lines
    const pushed = l2.head().seq
    // Reported late: a 3-minute stop at 06:30 and a 30 s one at 06:35:10, recorded after 07:00.
    for (const [at, state] of [
      ['2026-03-02T06:30:00Z', 'down'],
      ['2026-03-02T06:33:00Z', 'running'],
      ['2026-03-02T06:35:10Z', 'down'],
      ['2026-03-02T06:35:40Z', 'running'],
    ] as const) {
      clock2.set(at)
      recordState(l2, 'L2-PACK', state)
    }
    await f.pushAll('gw-2', f.tokens['gw-2']!, l2, 1, pushed)
    const minuteRows = async () =>
      (await rowsOf<{ start: number; ms: string; stops: string; counts: string }>(orm, sql`SELECT start::float8 AS start, ms, stops, counts FROM central_oee_buckets WHERE gateway_id = 'gw-2' AND unit = 60000 ORDER BY start`)).map((r) => [r.start, JSON.parse(r.ms), JSON.parse(r.stops), JSON.parse(r.counts)])
    const expected = async (thresholdMs: number) => {
      const raw = await rawTimeline(orm, 'gw-2', 'L2-PACK')
      return [...bucketsFrom(timeline(raw.changes), raw.counts, thresholdMs)].map(([start, b]) => [start, b.ms, b.stops, b.counts]).sort((a, b) => (a[0] as number) - (b[0] as number))
    }
    t.same(await minuteRows(), await expected(120_000), 'late changes, one per push')
    const hourOee = async () => (await f.call(`/api/v1/oee?from=${hour.from}&to=${hour.to}&lineId=L2`)).body.lines[0].workCenters[0]
    // Down 3 min (06:30) is a stop; 1 min (06:15) and 30 s (06:35:10) are small stops, run time.
    t.equal((await hourOee()).runMs, 3_600_000 - 180_000)
    clock2.set('2026-03-02T07:05:00Z')
    recordThreshold(l2, 'L2-PACK', 45_000)
    await f.pushAll('gw-2', f.tokens['gw-2']!, l2, 1, pushed + 4)
    t.same(await minuteRows(), await expected(45_000), 'a new threshold rebuilds the buckets with it')
    t.equal((await hourOee()).runMs, 3_600_000 - 180_000 - 60_000, 'the 1-minute stop is no longer small')
    const before = await snapshot(orm)
    await rebuildCentralProjections(orm, 7)
    t.same(await snapshot(orm), before, 'a rebuild gives the same rows')
  })

  t.test('a work center without a machine: the operators’ actions are its timeline, the same buckets as the gateway’s, until a machine reports', async (t) => {
    const f = await centralFixture(t, backend.open)
    const token = await f.register('gw-1', 'L1')
    const { l1, clock1: c } = f.lines
    const minuteRows = async (wc: string) =>
      (await rowsOf<{ start: number; ms: string; stops: string; counts: string }>(f.test.db.orm, sql`SELECT start::float8 AS start, ms, stops, counts FROM central_oee_buckets WHERE work_center_id = ${wc} AND unit = 60000 ORDER BY start`)).map((r) => [r.start, JSON.parse(r.ms), JSON.parse(r.stops), JSON.parse(r.counts)])
    const steps: [string, () => void][] = [
      ['05:50', () => recordOrderAt(l1, 'PO-M', 100, { lineId: 'L1', workCenterId: 'L1-MAN', idealCycleTimeS: 30 })],
      ['06:00', () => recordStart(l1, 'R-1', 'PO-M', 'L1-MAN')],
      ['06:20', () => recordPause(l1, 'R-1', 'flow.material')],
      ['06:30', () => recordResume(l1, 'R-1')],
      ['06:40', () => recordStart(l1, 'R-2', 'PO-M', 'L1-MAN')],
      ['06:50', () => recordCompletion(l1, 'R-1', 'PO-M', 40, 0)],
      ['07:00', () => recordPause(l1, 'R-2', 'setup.changeover')],
      ['07:20', () => recordResume(l1, 'R-2')],
      ['07:30', () => recordCompletion(l1, 'R-2', 'PO-M', 30, 2)],
    ]
    for (const [hhmm, step] of steps) {
      c.set(`2026-03-02T${hhmm}:00Z`)
      step()
    }
    await f.pushAll('gw-1', token, l1, 2)
    const gateway = gatewayMinuteBuckets(l1, 'L1-MAN')
    t.ok(gateway.length > 60, 'the gateway has buckets')
    t.same(await minuteRows('L1-MAN'), gateway, 'the central buckets are the gateway’s')
    const r = await f.call('/api/v1/oee?from=2026-03-02T06:00:00Z&to=2026-03-02T07:31:00Z')
    const wc = r.body.lines[0].workCenters[0]
    // Running while either run runs: 06:00–06:20, 06:30–07:00 and 07:20–07:30; down for material, a changeover, idle after.
    t.same([wc.workCenterId, wc.plannedMs, wc.runMs, wc.counts], ['L1-MAN', 91 * 60_000, 60 * 60_000, { total: 72, good: 70, reject: 2 }])

    // A machine connected later reports from 07:10 on: the operators' states from then on give way to its own.
    const pushed = l1.head().seq
    c.set('2026-03-02T07:10:00Z')
    recordState(l1, 'L1-MAN', 'running')
    c.set('2026-03-02T07:40:00Z')
    recordState(l1, 'L1-MAN', 'idle')
    await f.pushAll('gw-1', token, l1, 2000, pushed)
    t.same(await minuteRows('L1-MAN'), gatewayMinuteBuckets(l1, 'L1-MAN'), 'superseded as on the gateway')
    const before = await snapshot(f.test.db.orm)
    await rebuildCentralProjections(f.test.db.orm, 3)
    t.same(await snapshot(f.test.db.orm), before, 'a rebuild gives the same rows')
  })

  t.test('WIP of both lines, units and lots', async (t) => {
    const f = await twoLines(t, backend)
    const wip = await f.call('/api/v1/wip')
    t.same(
      wip.body.lines.map((l: Record<string, any>) => [l.gatewayId, l.lineId, l.openOrders, l.openQuantity]),
      [
        ['gw-1', 'L1', 1, 200],
        ['gw-2', 'L2', 1, 160],
      ],
    )
    const units = await rowsOf<{ serial: string; state: string; line: string }>(f.test.db.orm, sql`SELECT serial, state, line_id AS line FROM central_units ORDER BY serial`)
    t.same(units, [
      { serial: 'SN-1', state: 'completed', line: 'L2' },
      { serial: 'SN-2', state: 'in_process', line: 'L2' },
    ])
  })

  t.test('genealogy across lines, forward and backward', async (t) => {
    const f = await twoLines(t, backend)
    const fwd = await f.call('/api/v1/genealogy/trace?lot=RESIN-7&direction=forward')
    t.equal(fwd.status, 200)
    t.same(fwd.body.lines, ['L1', 'L2'], 'the trace crosses from L1 to L2')
    t.same(
      fwd.body.nodes.map((n: Record<string, any>) => [n.kind, n.id, n.depth, n.madeBy?.lineId ?? null]),
      [
        ['lot', 'RESIN-7', 0, null],
        ['lot', 'PO-A-OUT', 1, 'L1'],
        ['unit', 'SN-1', 2, 'L2'],
        ['unit', 'SN-2', 2, 'L2'],
      ],
    )
    t.same(
      fwd.body.links.map((l: Record<string, any>) => [l.gatewayId, l.lineId, l.orderId, l.consumedId, l.producedId, l.quantity]),
      [
        ['gw-1', 'L1', 'PO-A', 'RESIN-7', 'PO-A-OUT', 25],
        ['gw-2', 'L2', 'PO-B', 'PO-A-OUT', 'SN-1', 2],
        ['gw-2', 'L2', 'PO-B', 'PO-A-OUT', 'SN-2', 2],
      ],
    )
    const back = await f.call('/api/v1/genealogy/trace?unit=SN-1&direction=backward')
    t.same(
      back.body.nodes.map((n: Record<string, any>) => [n.kind, n.id, n.depth]),
      [
        ['unit', 'SN-1', 0],
        ['lot', 'PO-A-OUT', 1],
        ['lot', 'RESIN-7', 2],
      ],
    )
    t.same(back.body.nodes[1].madeBy, { gatewayId: 'gw-1', lineId: 'L1', orderId: 'PO-A' }, 'the lot SN-1 was made from came from line L1')
    const nothing = await f.call('/api/v1/genealogy/trace?lot=UNKNOWN')
    t.same([nothing.status, nothing.body.direction, nothing.body.links, nothing.body.nodes.length], [200, 'backward', [], 1], 'an unknown lot traces to itself alone')
  })

  t.test('gateway status: head, last push, connection state; the backlog is not known centrally', async (t) => {
    const f = await twoLines(t, backend)
    await f.register('gw-3', 'L3')
    const r = await f.call('/api/v1/gateways/status')
    t.equal(r.status, 200)
    t.equal(r.body.backlogKnown, false)
    t.same(
      r.body.gateways.map((g: Record<string, any>) => [g.id, g.lineId, g.headSeq, g.connection, g.backlog]),
      [
        ['gw-1', 'L1', f.lines.l1.head().seq, 'online', null],
        ['gw-2', 'L2', f.lines.l2.head().seq, 'online', null],
        ['gw-3', 'L3', 0, 'offline', null],
      ],
    )
    t.ok(r.body.gateways[0].lastPushAgeMs >= 0 && r.body.gateways[0].lastPushAgeMs < onlineWithinMs, 'pushed just now')
    t.equal(r.body.gateways[2].lastPushAt, null)
    const now = Date.parse('2026-03-02T12:00:00Z')
    t.same(
      [connectionState(new Date(now - onlineWithinMs).toISOString(), now), connectionState(new Date(now - onlineWithinMs - 1).toISOString(), now), connectionState(new Date(now - staleWithinMs).toISOString(), now), connectionState(new Date(now - staleWithinMs - 1).toISOString(), now), connectionState(null, now)],
      ['online', 'stale', 'stale', 'offline', 'offline'],
      'both sides of each threshold',
    )
  })

  t.test('refusals: no token 401, a gateway token 403, bad parameters 400 naming the parameter', async (t) => {
    const f = await twoLines(t, backend)
    const views = ['/api/v1/oee', '/api/v1/genealogy/trace?lot=RESIN-7', '/api/v1/gateways/status']
    for (const path of views) {
      const anon = await f.call(path, null)
      t.same([anon.status, anon.body.code], [401, 'auth.required'], `${path} without a token`)
      const gw = await f.call(path, f.tokens['gw-1'])
      t.same([gw.status, gw.body.code], [403, 'auth.forbidden'], `${path} with a gateway token`)
      t.equal((await f.call(path)).status, 200, `${path} with the admin token`)
    }
    const bad: [string, string][] = [
      ['/api/v1/oee?from=yesterday', 'from'],
      ['/api/v1/oee?to=2026-03-02', 'to'],
      [`/api/v1/oee?from=${hour.to}&to=${hour.from}`, 'from'],
      ['/api/v1/oee?lineId=L%201', 'lineId'],
      ['/api/v1/oee?workCenterId=', 'workCenterId'],
      ['/api/v1/genealogy/trace', 'lot'],
      ['/api/v1/genealogy/trace?lot=A&unit=B', 'unit'],
      ['/api/v1/genealogy/trace?lot=RESIN-7&direction=sideways', 'direction'],
    ]
    for (const [path, name] of bad) {
      const r = await f.call(path)
      t.same([r.status, r.headers.get('content-type'), r.body.code, r.body.errors?.[0]?.path], [400, 'application/problem+json', 'request.invalid', name], path)
      t.match(r.body.detail, new RegExp(`'${name}'`))
    }
  })

  t.test('a 2,000-event batch of machine states and counts folds in one push, and the next batch continues its timeline', async (t) => {
    const f = await centralFixture(t, backend.open)
    const token = await f.register('gw-1', 'L1')
    const { l1, clock1 } = f.lines
    const start = Date.parse('2026-03-02T06:00:00Z')
    // A state change or a count every 7 s: down stretches of 21 s (small stops) between runs.
    for (let i = 0; i < 2000; i++) {
      clock1.set(new Date(start + i * 7000).toISOString())
      if (i % 4 === 0) recordState(l1, 'L1-FILL', 'running')
      else if (i % 4 === 2) recordState(l1, 'L1-FILL', 'down')
      else recordCount(l1, 'L1-FILL', null, null, 3, i % 8 === 1 ? 1 : 0)
    }
    const started = performance.now()
    await f.pushAll('gw-1', token, l1, 2000)
    t.comment(`one push of 2,000 events: ${Math.round(performance.now() - started)} ms on ${backend.name}`)
    const pushed = l1.head().seq
    // The next push starts inside a down stretch the first one left open.
    for (let i = 2000; i < 2100; i++) {
      clock1.set(new Date(start + i * 7000).toISOString())
      if (i % 4 === 0) recordState(l1, 'L1-FILL', 'running')
      else if (i % 4 === 2) recordState(l1, 'L1-FILL', 'down')
      else recordCount(l1, 'L1-FILL', null, null, 3, 0)
    }
    await f.pushAll('gw-1', token, l1, 2000, pushed)
    const raw = await rawTimeline(f.test.db.orm, 'gw-1', 'L1-FILL')
    t.equal(raw.changes.length, 1050)
    const from = '2026-03-02T06:00:00Z'
    const to = new Date(start + 2100 * 7000).toISOString()
    const r = await f.call(`/api/v1/oee?from=${from}&to=${to}`)
    const want = computeOee({ periods: [{ from: start, to: Date.parse(to) }], intervals: timeline(raw.changes, [], Date.now()), counts: raw.counts, workCenterRatedCycleTimeS: null, microStopThresholdMs: 120_000, reasons: reasonTree(defaultReasons) })
    t.same(figures(r.body.lines[0].workCenters[0]), figures(want))
    t.equal(r.body.lines[0].workCenters[0].counts.total, want.counts.total)
  })

  t.test('the dashboard is served from its own files with a strict CSP and no token', async (t) => {
    const f = await centralFixture(t, backend.open)
    for (const path of ['/dashboard', '/dashboard/', '/dashboard/dashboard.js', '/dashboard/dashboard.css']) {
      const r = await f.app.request(path)
      t.equal(r.status, 200, path)
      t.match(r.headers.get('content-security-policy'), /default-src 'none'; script-src 'self'/)
      await r.arrayBuffer()
    }
    const html = await f.app.request('/dashboard')
    t.match(html.headers.get('content-type'), /^text\/html/)
    t.notMatch(await html.text(), /https?:\/\/(?!www\.w3\.org)/, 'nothing from another origin')
    for (const path of ['/dashboard/../schema.ts', '/dashboard/nope.js', '/dashboard/%2e%2e/app.ts']) t.equal((await f.app.request(path)).status, 404, path)
  })
}
