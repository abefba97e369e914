// The audit trail (21 CFR 11.10(e)): who, when, what with old and new values, why; filters, pages, CSV and JSON export; corrections as new events.
import t from 'tap'
import { completion, dispatchedOrder, routing } from '../helpers/line.ts'
import { part11Gateway } from './part11-gateway.ts'

const gw = await part11Gateway(t, 'signatures:\n  timeZone: UTC\naccounts:\n  sessionIdleMinutes: 120\n')
const call = gw.call
const quentin = await gw.session('quentin')
const olga = await gw.session('olga')

/** The export, as text, with the caller's token. */
async function exported(query: string, token = quentin): Promise<{ status: number; type: string | null; disposition: string | null; text: string }> {
  const res = await fetch(`http://127.0.0.1:${gw.running.port}/api/v1/audit/export?${query}`, { headers: { authorization: `Bearer ${token}` } })
  return { status: res.status, type: res.headers.get('content-type'), disposition: res.headers.get('content-disposition'), text: await res.text() }
}

/** RFC 4180 parsing, enough to read back what the export wrote. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = []
  let row: string[] = []
  let field = ''
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') (field += '"'), i++
      else if (ch === '"') quoted = false
      else field += ch
    } else if (ch === '"') quoted = true
    else if (ch === ',') row.push(field), (field = '')
    else if (ch === '\r' && text[i + 1] === '\n') row.push(field), rows.push(row), (row = []), (field = ''), i++
    else field += ch
  }
  return rows
}

const redefined = { ...routing, operations: [{ ...routing.operations[0]!, instructions: 'Mix one batch, "slowly", then rest.' }] }

t.test('a master-data change shows the previous definition and the new one', async (t) => {
  t.equal((await call('PUT', '/api/v1/routings/RT-PASTE/A', redefined)).status, 200)
  const trail = await call('GET', '/api/v1/audit/trail?type=RoutingDefined&subject=routing/RT-PASTE/A', undefined, quentin)
  t.equal(trail.status, 200)
  t.equal(trail.body.items.length, 2)
  const [created, changed] = trail.body.items
  t.match(created, { action: 'create', previous: null, actor: /^token:/, type: 'RoutingDefined' })
  t.match(changed, { action: 'change', previous: { operations: [{ instructions: 'Mix one batch.' }] }, current: { operations: [{ instructions: 'Mix one batch, "slowly", then rest.' }] } })
  t.match(changed.recordedAt, /Z$/)
})

t.test('filters: actor, type, subject and time; paging with after', async (t) => {
  await dispatchedOrder(call, 'PO-A1', 2)
  const start = await call('POST', '/api/v1/orders/PO-A1/operations/10/start', { quantity: 1 }, olga)
  t.equal(start.status, 201)
  const byOlga = await call('GET', '/api/v1/audit/trail?actor=olga', undefined, quentin)
  t.ok(byOlga.body.items.length >= 1)
  t.ok(byOlga.body.items.every((e: { personId: string }) => e.personId === 'olga'), 'only what Olga did')
  t.same((await call('GET', '/api/v1/audit/trail?actor=person:olga', undefined, quentin)).body.items, byOlga.body.items, 'an actor as logged finds the same')

  const terminal = await call('PUT', '/api/v1/terminals/T-01', { name: 'Mixer terminal', location: 'WC-MIX' })
  t.equal(terminal.status, 200)
  const paused = await call('POST', `/api/v1/runs/${start.body.runId}/pause`, { reason: 'break' }, olga, { 'x-takt-terminal': 'T-01', 'x-takt-terminal-key': terminal.body.secret })
  t.equal(paused.status, 200)
  const atTerminal = await call('GET', '/api/v1/audit/trail?actor=olga&type=OperationPaused', undefined, quentin)
  t.match(atTerminal.body.items, [{ actor: 'person:olga;terminal=T-01', personId: 'olga', personName: 'Olga Operator', terminal: 'T-01', reason: 'break' }], 'the terminal and the reason are in the trail')

  const cut = new Date(gw.clock.now().getTime() + 30 * 60_000).toISOString()
  gw.clock.advance(3600_000)
  t.equal((await call('POST', `/api/v1/runs/${start.body.runId}/resume`, undefined, olga)).status, 200)
  const later = await call('GET', `/api/v1/audit/trail?from=${encodeURIComponent(cut)}`, undefined, quentin)
  t.match(later.body.items, [{ type: 'OperationResumed' }], 'from: only what was recorded after')
  t.equal(later.body.items.length, 1)
  const earlier = await call('GET', `/api/v1/audit/trail?to=${encodeURIComponent(cut)}&limit=1000`, undefined, quentin)
  t.notOk(earlier.body.items.some((e: { type: string }) => e.type === 'OperationResumed'), 'to: only what was recorded before')
  const backwards = await call('GET', `/api/v1/audit/trail?from=${encodeURIComponent(cut)}&to=2000-01-01T00:00:00Z`, undefined, quentin)
  t.equal(backwards.status, 422)
  t.equal(backwards.body.code, 'query_invalid')

  const page1 = await call('GET', '/api/v1/audit/trail?limit=3', undefined, quentin)
  t.same(page1.body.items.map((e: { seq: number }) => e.seq), [1, 2, 3])
  t.equal(page1.body.next, 3)
  const page2 = await call('GET', `/api/v1/audit/trail?limit=3&after=${page1.body.next}`, undefined, quentin)
  t.same(page2.body.items.map((e: { seq: number }) => e.seq), [4, 5, 6])
  const forbidden = await call('GET', '/api/v1/audit/trail', undefined, olga)
  t.equal(forbidden.status, 403, 'an operator does not review the trail')
})

t.test('export as JSON and CSV, the whole filtered trail', async (t) => {
  const all = await call('GET', '/api/v1/audit/trail?limit=1000', undefined, quentin)
  const json = await exported('format=json')
  t.equal(json.status, 200)
  t.match(json.type, /^application\/json/)
  t.match(json.disposition, /attachment; filename="takt-audit-.*\.json"/)
  const items = JSON.parse(json.text) as { seq: number }[]
  t.same(items.map((e) => e.seq), all.body.items.map((e: { seq: number }) => e.seq), 'every entry, in seq order')

  const csv = await exported('format=csv&type=RoutingDefined')
  t.equal(csv.status, 200)
  t.match(csv.type, /^text\/csv/)
  const rows = parseCsv(csv.text)
  t.same(rows[0], ['seq', 'recordedAt', 'occurredAt', 'actor', 'personId', 'personName', 'terminal', 'type', 'subject', 'action', 'reason', 'previous', 'current', 'refersToSeq', 'data', 'hash'])
  const changed = rows.find((r) => r[8] === 'routing/RT-PASTE/A' && r[9] === 'change')!
  t.ok(changed, 'the change is a row')
  t.match(JSON.parse(changed[11]!), { operations: [{ instructions: 'Mix one batch.' }] }, 'the previous definition survives the quoting')
  t.match(JSON.parse(changed[12]!), { operations: [{ instructions: 'Mix one batch, "slowly", then rest.' }] }, 'commas and quotes survive')
  t.equal(rows.length - 1, (await call('GET', '/api/v1/audit/trail?type=RoutingDefined', undefined, quentin)).body.items.length)
  t.equal((await exported('format=xml')).status, 422, 'an unknown format is refused')
  t.equal((await exported('format=csv', olga)).status, 403, 'an operator does not export it')
})

t.test('a correction of as-built data is a new event with a reason, naming the corrected one', async (t) => {
  await dispatchedOrder(call, 'PO-C1', 1)
  const run = await call('POST', '/api/v1/orders/PO-C1/operations/10/start', { quantity: 1 }, olga)
  t.equal((await call('POST', `/api/v1/runs/${run.body.runId}/complete`, completion, olga)).status, 200)
  const measured = (await call('GET', '/api/v1/audit/trail?type=MeasurementRecorded&limit=1000', undefined, quentin)).body.items.at(-1)
  t.match(measured.data, { name: 'viscosity', value: 5 })
  const before = await gw.seq()
  const refused = async (body: Record<string, unknown>, status: number, code: string, what: string) => {
    const r = await call('POST', '/api/v1/as-built/corrections', body, quentin)
    t.equal(r.status, status, `${what}: ${JSON.stringify(r.body)}`)
    t.equal(r.body.code, code, what)
    t.equal(await gw.seq(), before, `${what}: nothing recorded`)
    return r
  }
  const noReason = await refused({ seq: measured.seq, value: 7.5 }, 422, 'validation_failed', 'a correction without a reason')
  t.match(noReason.body.errors, [{ path: 'json.reason' }])
  await refused({ seq: measured.seq, value: 7.5, reason: '   ' }, 422, 'definition_invalid', 'a blank reason')
  await refused({ seq: 1, value: 7.5, reason: 'typo' }, 422, 'definition_invalid', 'a record that is not as-built data')
  await refused({ seq: measured.seq, value: 'seven', reason: 'typo' }, 422, 'definition_invalid', 'a value of the wrong type')
  await refused({ seq: 999_999, value: 7.5, reason: 'typo' }, 404, 'not_found', 'an unknown seq')
  const forbidden = await call('POST', '/api/v1/as-built/corrections', { seq: measured.seq, value: 7.5, reason: 'typo' }, olga)
  t.equal(forbidden.status, 403, 'an operator does not correct the record')

  const ok = await call('POST', '/api/v1/as-built/corrections', { seq: measured.seq, value: 7.5, reason: 'read 5 off the wrong display; the viscometer showed 7.5' }, quentin)
  t.equal(ok.status, 201, JSON.stringify(ok.body))
  t.match(ok.body, { correctsSeq: measured.seq })
  const again = await call('POST', '/api/v1/as-built/corrections', { seq: measured.seq, value: 7.4, reason: 'second reading' }, quentin)
  t.equal(again.status, 201)
  const corrections = (await call('GET', `/api/v1/audit/trail?type=AsBuiltCorrected`, undefined, quentin)).body.items
  t.match(corrections, [
    { action: 'change', refersToSeq: measured.seq, previous: 5, current: 7.5, reason: /wrong display/, personId: 'quentin', data: { correctsId: measured.id, correctsType: 'MeasurementRecorded', field: 'value' } },
    { refersToSeq: measured.seq, previous: 7.5, current: 7.4 },
  ])
  const originalNow = await call('GET', `/api/v1/records/${measured.seq}`, undefined, quentin)
  t.match(originalNow.body.record.data, { value: 5 }, 'the original record is unchanged')
  const projected = gw.running.gateway.store.db.sqlite.prepare('SELECT value, within_limits FROM measurements WHERE event_seq = ?').get(measured.seq)
  t.same(projected, { value: 7.4, within_limits: 1 }, 'the as-built view shows the corrected value')
  t.match((await call('GET', '/api/v1/audit/verify', undefined, quentin)).body, { ok: true })
})

t.test('the log cannot be edited or deleted through the database connection either', async (t) => {
  const sqlite = gw.running.gateway.store.db.sqlite
  t.throws(() => sqlite.prepare(`UPDATE events SET data = '{}' WHERE seq = 1`).run(), /append-only/)
  t.throws(() => sqlite.prepare('DELETE FROM events WHERE seq = 1').run(), /append-only/)
})
