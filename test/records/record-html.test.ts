// The record's HTML from a record given as data: every value is text, whatever it holds, and the plan-versus-build check says no where the build left the plan.
import t from 'tap'
import type { BatchRecord } from '../../edge/api/records/batch-record.ts'
import { escapeHtml, recordCsp, recordHtml } from '../../edge/api/records/record-html.ts'

const evil = '<script>alert(1)</script>'
const at = '2026-12-01T10:00:00.000Z'

function record(overrides: Partial<BatchRecord> = {}): BatchRecord {
  return {
    scope: { kind: 'order', orderId: `PO-${evil}` },
    generatedAt: at,
    throughSeq: 42,
    order: { id: `PO-${evil}`, productId: `P"${evil}`, quantity: 1, serialized: false, state: 'completed', lineId: 'L1', outputLot: 'LOT-1', bomId: 'B', bomVersion: 'A', routingId: 'R', routingVersion: 'A', createdAt: at, dueAt: null },
    units: [],
    planned: {
      operations: [{ seq: 10, name: `Mix ${evil}`, workCenterId: 'WC-1', components: [{ materialId: 'RESIN', quantityPer: 1 }], measurements: [{ name: `visc${evil}`, unit: 'Pa.s', lower: 1, upper: 10 }], alternates: {} }],
      bom: [{ materialId: 'RESIN', quantityPer: 1 }],
    },
    operations: [
      {
        seq: 10,
        name: `Mix ${evil}`,
        workCenterId: 'WC-1',
        state: 'completed',
        qtyGood: 1,
        qtyScrap: 0,
        startedAt: at,
        completedAt: at,
        runs: [
          {
            id: 'run-1', opSeq: 10, unitSerial: null, quantity: 1, workCenterId: 'WC-2', workCenterName: `Other ${evil}`, operator: `Mallory ${evil}`, state: 'completed', startedAt: at, endedAt: at, good: 1, scrap: 0, scrapReasons: [],
            consumptions: [{ kind: 'lot', id: 'GLUE-1', materialId: 'GLUE', quantity: 1, at }],
            measurements: [{ seq: 7, name: `visc${evil}`, value: 11, unit: 'Pa.s', lower: 1, upper: 10, withinLimits: false, at }],
            pauses: [{ reason: evil, at, by: 'x' }],
          },
        ],
      },
    ],
    refusals: [{ opSeq: 10, runId: 'run-1', lotId: 'L', quantity: 1, code: 'lot_wrong_material', reason: evil, by: 'x', at }],
    deviations: [{ kind: 'order_hold', at, by: evil, subject: 'order/x', text: evil }],
    nonconformances: [{ id: 'nc-1', opSeq: 10, unitSerial: null, reason: evil, state: 'open', openedAt: at, openedBy: evil, disposition: null, dispositionedAt: null, dispositionedBy: null }],
    signatures: [
      { seq: 9, signatureId: 's', signedSeq: 8, signedType: 'OrderClosed', signedSubject: 'order/x', recordHash: 'h', signerId: 'q', signerName: `Q ${evil}`, meaning: 'approval', signedAt: at, localTime: '2026-12-01T11:00:00.000+01:00', timeZone: 'Europe/Berlin', method: 'password', components: 'both', reason: evil, valid: false, problem: `moved ${evil}` },
    ],
    ...overrides,
  }
}

t.test('every value is escaped: no markup from the record survives as markup', async (t) => {
  const page = recordHtml(record())
  t.notOk(page.includes('<script'), 'no script tag')
  t.ok(page.includes('<h1>Batch record: order PO-&lt;script&gt;alert(1)&lt;/script&gt;</h1>'), 'the order id as text')
  t.ok(page.includes('P&quot;&lt;script&gt;'), 'quotes too')
  t.ok(page.includes('visc&lt;script&gt;alert(1)&lt;/script&gt;'), 'a measurement name as text')
  t.ok(page.includes('Q &lt;script&gt;alert(1)&lt;/script&gt;'), "a signer's name as text")
  t.equal(escapeHtml(`<a href="x" onclick='y'>&</a>`), '&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;')
  t.notMatch(recordCsp, /script-src|unsafe/, 'the policy allows no script and no inline style but its own')
})

t.test('a signature that no longer matches its record says so; local time and zone are printed', async (t) => {
  const page = recordHtml(record())
  t.match(page, /<td>2026-12-01 10:00:00 UTC<\/td><td>2026-12-01T11:00:00\.000\+01:00 Europe\/Berlin<\/td>/)
  t.match(page, /class="fail">does not match: moved &lt;script&gt;/)
  const none = recordHtml(record({ signatures: [] }))
  t.ok(none.includes('No electronic signature on this record.'), 'and a record without signatures says that')
})

t.test('as planned vs as built: another work center, a material outside the plan, a missing lot are each a no', async (t) => {
  const page = recordHtml(record())
  const section = page.slice(page.indexOf('As planned vs as built'), page.indexOf('<h2>Deviations'))
  t.match(section, /work center WC-2; lots GLUE-1 \(GLUE, 1\); 1 measurements, 1 out of limits; not in the plan: GLUE; no lot booked for RESIN<\/td><td><span class="fail">no/)
  t.match(section, /outside the BOM: GLUE<\/td><td><span class="fail">no/)
  const planned = record()
  const op = planned.operations[0]!
  const run = op.runs[0]!
  const agreeing = { ...planned, operations: [{ ...op, runs: [{ ...run, workCenterId: 'WC-1', consumptions: [{ kind: 'lot', id: 'RESIN-9', materialId: 'RESIN', quantity: 1, at }] }] }] }
  const good = recordHtml(agreeing)
  const goodSection = good.slice(good.indexOf('As planned vs as built'), good.indexOf('<h2>Deviations'))
  t.equal((goodSection.match(/class="pass">yes/g) ?? []).length, 2, 'the same build to plan agrees on the operation and the BOM')
  const notRun = recordHtml({ ...planned, order: { ...planned.order, state: 'in_progress' }, operations: [{ ...op, runs: [] }] })
  t.match(notRun, /not run<\/td><td><span class="muted">not yet/, 'an operation still to run is not yet a deviation')
})
