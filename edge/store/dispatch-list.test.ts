// The dispatch list's order against a real SQLite file: the lead's sequence, priority, due date (none last), routing sequence.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { defineOrder, dispatchOrder, holdOrder, releaseOrder, resequenceDispatch } from '../core/orders.ts'
import { loadConfig } from '../config.ts'
import { seedDemoLine } from '../demo.ts'
import { buildGateway } from '../gateway.ts'
import { dumpProjections, rebuildProjections } from './projections.ts'

t.test('dispatch order, holds, resequencing and rebuild', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'takt-dispatch-'))
  const gw = buildGateway(loadConfig({ env: { TAKT_DATA_DIR: dir, TAKT_LOG_LEVEL: 'silent' } }))
  t.teardown(() => {
    gw.close()
    rmSync(dir, { recursive: true, force: true })
  })
  await seedDemoLine(gw, new Date('2026-11-24T06:00:00Z'))
  const ok = (d: { ok: boolean }) => t.ok(d.ok)
  const order = (id: string, priority: number, dueAt: string | null) => {
    ok(gw.store.execute('erp', (v) => defineOrder(v, { id, productId: 'BRK-100', quantity: 1, serials: [], bomId: 'BOM-BRK-100', bomVersion: 'A', routingId: 'RT-BRK-100', routingVersion: 'A', lineId: 'L1', priority, dueAt, plannedStartAt: null })))
    ok(gw.store.execute('lead', (v) => releaseOrder(v, id)))
    ok(gw.store.execute('lead', (v) => dispatchOrder(v, id)))
  }
  // The demo's PO-1001 and PO-1002 are dispatched at priority 500 with due dates.
  order('A-NODUE', 100, null)
  order('B-LATE', 100, '2026-12-01T00:00:00Z')
  order('C-SOON', 100, '2026-11-25T00:00:00Z')
  order('D-URGENT', 1, '2026-12-31T00:00:00Z')
  const ids = () => gw.queries.dispatchList('WC-PRESS').map((e) => e.orderId)
  t.same(ids(), ['D-URGENT', 'C-SOON', 'B-LATE', 'A-NODUE', 'PO-1001', 'PO-1002'], 'priority first, then due date, no due date last')
  t.same(gw.queries.dispatchList('WC-PRESS', 2).map((e) => e.orderId), ['D-URGENT', 'C-SOON'], 'limited')
  const weld = gw.queries.dispatchList('WC-WELD')
  t.same(weld.map((e) => [e.orderId, e.opSeq, e.operationState]), [['D-URGENT', 20, 'pending'], ['C-SOON', 20, 'pending'], ['B-LATE', 20, 'pending'], ['A-NODUE', 20, 'pending'], ['PO-1001', 20, 'pending'], ['PO-1002', 20, 'pending']], 'the next work center sees its upcoming operations, pending')
  t.same(gw.queries.dispatchList('WC-NOWHERE'), [], 'an unknown work center has an empty list')

  ok(gw.store.execute('lead', (v) => holdOrder(v, 'C-SOON', 'material check')))
  t.match(gw.queries.dispatchList('WC-PRESS').find((e) => e.orderId === 'C-SOON'), { orderState: 'held' }, 'a held order stays on the list, marked held')

  ok(gw.store.execute('lead', (v) => resequenceDispatch(v, 'WC-PRESS', ['PO-1002', 'A-NODUE'])))
  t.same(ids(), ['PO-1002', 'A-NODUE', 'D-URGENT', 'C-SOON', 'B-LATE', 'PO-1001'], "the lead's sequence goes first, the rest keep their order")
  t.same(gw.queries.dispatchList('WC-PRESS', 1).map((e) => e.orderId), ['PO-1002'])
  const refused = gw.store.execute('lead', (v) => resequenceDispatch(v, 'WC-PRESS', ['PO-1004']))
  t.notOk(refused.ok, 'an order that is not on the list cannot be sequenced')
  const released = gw.store.execute('lead', (v) => resequenceDispatch(v, 'WC-PRESS', ['PO-1003']))
  t.match(released, { ok: false, rejection: { code: 'resequence_invalid' } }, 'nor can a released order not yet dispatched')

  const live = dumpProjections(gw.store.db.sqlite)
  rebuildProjections(gw.store.db.sqlite)
  t.same(dumpProjections(gw.store.db.sqlite), live, 'the rebuilt projections, trigger-kept columns included, equal the live ones')
  t.same(ids(), ['PO-1002', 'A-NODUE', 'D-URGENT', 'C-SOON', 'B-LATE', 'PO-1001'])
})
