// ERP's B2MML intake at the cloud: schedules and master data read by the gateway's own reader, stored as the line's definitions; bad documents refused by element and line, nothing stored. Run once per central database.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { sql } from 'drizzle-orm'
import type { Test } from 'tap'
import { buildCloudApi } from '../app.ts'
import { ensureAdminToken } from '../credentials.ts'
import type { Backend } from './backends.ts'

const adminToken = 'cloud-b2mml-admin-token-0123456789'
const fixtures = join(import.meta.dirname, '..', '..', 'test', 'erp', 'fixtures')

/** A B2MML V0600 production schedule: one request for `lineId`, mixing `quantity` kg of paste at WC-MIX from twice as much resin. */
export function schedule(orderId: string, lineId: string, quantity: number, options: { produced?: boolean; ns?: string } = {}): string {
  const produced = options.produced ?? true
  return `<?xml version="1.0" encoding="UTF-8"?>
<ProductionSchedule xmlns="${options.ns ?? 'http://www.mesa.org/xml/B2MML-V0600'}">
  <ID>WEEK-49</ID>
  <ProductionRequest>
    <ID>${orderId}</ID>
    <HierarchyScope><EquipmentID>${lineId}</EquipmentID><EquipmentLevel>ProductionLine</EquipmentLevel></HierarchyScope>
    <StartTime>2026-12-03T06:00:00Z</StartTime>
    <EndTime>2026-12-03T14:00:00Z</EndTime>
    <Priority>20</Priority>
    <SegmentRequirement>
      <ID>10</ID>
      <ProcessSegmentID>MIX</ProcessSegmentID>
      <Description>Mix the paste</Description>
      <Duration>PT1H</Duration>
      <EquipmentRequirement><EquipmentID>WC-MIX</EquipmentID></EquipmentRequirement>
      <MaterialRequirement>
        <MaterialDefinitionID>RESIN</MaterialDefinitionID>
        <MaterialUse>Consumed</MaterialUse>
        <Quantity><QuantityString>${quantity * 2}</QuantityString><UnitOfMeasure>kg</UnitOfMeasure></Quantity>
      </MaterialRequirement>${
        produced
          ? `
      <MaterialRequirement>
        <MaterialDefinitionID>PASTE</MaterialDefinitionID>
        <MaterialUse>Produced</MaterialUse>
        <Quantity><QuantityString>${quantity}</QuantityString><UnitOfMeasure>kg</UnitOfMeasure></Quantity>
      </MaterialRequirement>`
          : ''
      }
    </SegmentRequirement>
  </ProductionRequest>
</ProductionSchedule>
`
}

export function b2mmlSuite(t: Test, backend: Backend): void {
  const setup = async (t: Test) => {
    const test = await backend.open()
    t.teardown(() => test.dispose())
    await ensureAdminToken(test.db.orm, adminToken)
    const app = buildCloudApi(test.db, { version: 'test' })
    const post = async (path: string, body: string, type = 'application/xml', token = adminToken) => {
      const res = await app.request(path, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': type }, body })
      return { status: res.status, type: res.headers.get('content-type'), body: (await res.json()) as any }
    }
    const definitions = async (lineId: string) => {
      const res = await app.request(`/api/v1/lines/${lineId}/definitions`, { headers: { authorization: `Bearer ${adminToken}` } })
      return ((await res.json()) as { definitions: Array<{ kind: string; key: string; body: any }> }).definitions
    }
    const changes = async () => {
      const result = (await test.db.orm.execute(sql`SELECT count(*)::int AS n FROM definition_changes`)) as unknown as { rows: Array<{ n: number }> }
      return result.rows[0]!.n
    }
    return { app, post, definitions, changes, test }
  }

  t.test('a production schedule becomes the line order with its derived routing and BOM, as the gateway derives them', async (t) => {
    const { post, definitions } = await setup(t)
    const r = await post('/api/v1/lines/L1/b2mml', schedule('PO-B1', 'L1', 100))
    t.equal(r.status, 200, JSON.stringify(r.body))
    t.same([r.body.changed, r.body.unchanged, r.body.orders, r.body.version, r.body.noun], [3, 0, 1, 'V0600', 'ProductionSchedule'])
    t.same(
      r.body.definitions.map((d: { kind: string }) => d.kind),
      ['bom', 'routing', 'order'],
      'definitions before the order',
    )
    const held = await definitions('L1')
    const order = held.find((d) => d.kind === 'order')!.body
    const routing = held.find((d) => d.kind === 'routing')!.body
    const bom = held.find((d) => d.kind === 'bom')!.body
    t.same([order.id, order.lineId, order.productId, order.quantity, order.priority, order.routingId, order.bomId], ['PO-B1', 'L1', 'PASTE', 100, 20, 'B2MML:PASTE', 'B2MML:PASTE'])
    t.same([order.routingVersion, order.bomVersion], [routing.version, bom.version], 'the order names the derived versions')
    t.same(routing.operations.map((o: any) => [o.seq, o.workCenterId, o.idealCycleTimeS]), [[10, 'WC-MIX', 36]], 'one operation at WC-MIX, 3,600 s over 100 kg')
    t.same(bom.items.map((i: any) => [i.materialId, i.quantityPer]), [['RESIN', 2]])
    t.equal((await definitions('L2')).length, 0, 'nothing on another line')

    const again = await post('/api/v1/lines/L1/b2mml', schedule('PO-B1', 'L1', 100))
    t.same([again.status, again.body.changed, again.body.unchanged], [200, 0, 3], 'the same document again changes nothing')
    const more = await post('/api/v1/lines/L1/definitions', schedule('PO-B1', 'L1', 150), 'text/xml; charset=utf-8')
    t.equal(more.status, 200, 'the JSON intake takes B2MML by its content type')
    t.same([more.body.changed, more.body.unchanged], [2, 1], 'a new quantity derives a new cycle time: routing and order change, the BOM (2 kg resin per kg) stays')
    t.equal((await definitions('L1')).find((d) => d.kind === 'order')!.body.quantity, 150)
  })

  t.test('master data documents: equipment placed by its parent, materials, people', async (t) => {
    const { post, definitions } = await setup(t)
    for (const name of ['v0700-equipment.xml', 'v0700-material.xml', 'v0700-personnel.xml']) {
      const r = await post('/api/v1/lines/BL/b2mml', readFileSync(join(fixtures, name), 'utf8'))
      t.equal(r.status, 200, `${name}: ${JSON.stringify(r.body)}`)
      t.ok(r.body.changed > 0, `${name} stored`)
    }
    const held = await definitions('BL')
    const equipment = new Map(held.filter((d) => d.kind === 'equipment').map((d) => [d.key, d.body]))
    t.same([equipment.get('BL')?.level, equipment.get('WC-PRESS')?.level, equipment.get('WC-PRESS')?.parentId], ['line', 'work_center', 'BL'], 'a WorkCenter under a line is a work center')
    t.ok(held.some((d) => d.kind === 'material'), 'materials')
    t.ok(held.some((d) => d.kind === 'person'), 'people')
  })

  t.test('refusals name the element and its line; nothing is stored', async (t) => {
    const { post, definitions, changes } = await setup(t)
    const malformed = await post('/api/v1/lines/L1/b2mml', '<ProductionSchedule xmlns="http://www.mesa.org/xml/B2MML-V0600">\n  <ID>W</ID>\n  <ProductionRequest>\n</ProductionSchedule>')
    t.same([malformed.status, malformed.type, malformed.body.code], [400, 'application/problem+json', 'xml_malformed'])
    t.equal(malformed.body.errors[0].line, 4, 'the line of the mismatched end tag')
    t.match(malformed.body.detail, /line 4/)

    const unknown = await post('/api/v1/lines/L1/b2mml', schedule('PO-X', 'L1', 10, { ns: 'http://example.com/not-b2mml' }))
    t.same([unknown.status, unknown.body.code], [422, 'b2mml_version_unknown'])

    const nothingMade = await post('/api/v1/lines/L1/b2mml', schedule('PO-X', 'L1', 10, { produced: false }))
    t.same([nothingMade.status, nothingMade.body.code], [422, 'b2mml_element_missing'])
    t.match(nothingMade.body.errors[0].path, /ProductionRequest/, 'placed at the request')
    t.equal(nothingMade.body.errors[0].line, 4, 'the request element is on line 4')

    const otherLine = await post('/api/v1/lines/L1/b2mml', schedule('PO-X', 'L2', 10))
    t.same([otherLine.status, otherLine.body.code], [422, 'b2mml_unmappable'])
    t.match(otherLine.body.errors[0].message, /for line 'L2', not 'L1'/)
    t.match(otherLine.body.errors[0].path, /HierarchyScope/)

    const performance = await post('/api/v1/lines/L1/b2mml', '<GetProductionPerformance xmlns="http://www.mesa.org/xml/B2MML-V0600"><ApplicationArea><BODID>1</BODID></ApplicationArea><DataArea><Get/><ProductionPerformance><ProductionResponse><ProductionRequestID>PO-1</ProductionRequestID></ProductionResponse></ProductionPerformance></DataArea></GetProductionPerformance>')
    t.same([performance.status, performance.body.code], [422, 'b2mml_document_unsupported'])

    const plain = await post('/api/v1/lines/L1/b2mml', schedule('PO-X', 'L1', 10), 'text/plain')
    t.same([plain.status, plain.body.code], [415, 'unsupported_media_type'])
    const latin = await post('/api/v1/lines/L1/b2mml', schedule('PO-X', 'L1', 10), 'application/xml; charset=iso-8859-1')
    t.same([latin.status, latin.body.code], [415, 'unsupported_media_type'])
    const badLine = await post('/api/v1/lines/L%201/b2mml', schedule('PO-X', 'L1', 10))
    t.same([badLine.status, badLine.body.code], [400, 'request.invalid'])

    t.equal(await changes(), 0, 'no refused document wrote to the shape log')
    t.same(await definitions('L1'), [], 'and the line holds nothing')
    const ok = await post('/api/v1/lines/L1/b2mml', schedule('PO-X', 'L1', 10))
    t.equal(ok.status, 200, 'the corrected document is taken')
  })

  t.test('only an admin sends ERP documents to the cloud', async (t) => {
    const { post, app } = await setup(t)
    const reg = await app.request('/api/v1/gateways', { method: 'POST', headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ id: 'gw-1', lineId: 'L1' }) })
    const { token } = (await reg.json()) as { token: string }
    const r = await post('/api/v1/lines/L1/b2mml', schedule('PO-X', 'L1', 10), 'application/xml', token)
    t.same([r.status, r.body.code], [403, 'auth.forbidden'])
    const anon = await app.request('/api/v1/lines/L1/b2mml', { method: 'POST', headers: { 'content-type': 'application/xml' }, body: schedule('PO-X', 'L1', 10) })
    t.equal(anon.status, 401)
  })
}
