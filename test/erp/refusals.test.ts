// Bad B2MML over HTTP: each is a clear 4xx naming what is wrong and where (element path, line), and nothing is imported.
import t, { type Test } from 'tap'
import { dumpProjections } from '../../edge/store/projections.ts'
import { rawRequest } from '../helpers/client.ts'
import { adminToken, at, erpGateway, eventSeq, fixture, kids, loadPasteLine, textAt, type XmlReply } from './helpers.ts'

const limit = 200_000
const gw = await erpGateway(t, { maxDocumentBytes: limit })
await loadPasteLine(gw)
const sqlite = gw.running.gateway.store.db.sqlite
const schedule = fixture('v0600-schedule.xml')
const v07 = fixture('v0700-schedule.xml')

/** The 1-based line of the n-th occurrence of `needle` in `text`. */
function lineOf(text: string, needle: string, occurrence = 1): number {
  let from = -1
  for (let i = 0; i < occurrence; i++) from = text.indexOf(needle, from + 1)
  if (from < 0) throw new Error(`${needle} not found`)
  return text.slice(0, from).split('\n').length
}

function state() {
  const erp = ['erp_orders', 'erp_sublots'].map((table) => sqlite.prepare(`SELECT * FROM ${table} ORDER BY 1`).all())
  return { projections: dumpProjections(sqlite), erp }
}

/** Runs `act` and checks that the log head, every projection and the ERP order records are as before. */
async function importsNothing(t: Test, act: () => Promise<void>): Promise<void> {
  const seq = await eventSeq(gw)
  const before = state()
  await act()
  t.equal(await eventSeq(gw), seq, 'no event recorded')
  t.same(state(), before, 'projections and ERP records unchanged')
}

function isProblem(t: Test, r: XmlReply, status: number, code: string, detail: RegExp): void {
  t.equal(r.status, status, `status ${status}: ${r.text.slice(0, 400)}`)
  t.match(r.contentType, /^application\/problem\+json/)
  t.equal(r.json?.code, code)
  t.equal(r.json?.type, `urn:takt:problem:${code}`)
  t.match(r.json?.detail, detail)
}

const firstError = (r: XmlReply) => r.json!.errors[0] as { path: string; line: number; column: number; code: string; message: string }

t.test('malformed XML: 400 with the line where the parser stopped', async (t) => {
  const broken = schedule.replace('</Description>\n        <ProductProductionRuleID>', '\n        <ProductProductionRuleID>')
  await importsNothing(t, async () => {
    const r = await gw.post(broken)
    isProblem(t, r, 400, 'xml_malformed', /not well-formed XML/)
    t.equal(firstError(r).line, lineOf(broken, '</ProductionRequest>'), 'the close tag that does not match')
    t.match(r.json!.confirmation, /<ConfirmBOD xmlns="http:\/\/www.mesa.org\/xml\/B2MML">/, 'a ConfirmBOD answers even a document that is not XML')
  })
})

t.test('a namespace that is not a B2MML version Takt reads: 422 naming the namespace and the versions read', async (t) => {
  const cases: Array<[string, RegExp]> = [
    [schedule.replace('http://www.mesa.org/xml/B2MML-V0600', 'http://example.com/orders'), /http:\/\/example.com\/orders is not B2MML's/],
    [schedule.replace('http://www.mesa.org/xml/B2MML-V0600', 'http://www.mesa.org/xml/B2MML-V0300'), /B2MML-V0300 is not a B2MML version Takt reads: V0401 to V06xx/],
    [schedule.replace(' xmlns="http://www.mesa.org/xml/B2MML-V0600"', ''), /has no namespace/],
  ]
  for (const [doc, detail] of cases) {
    await importsNothing(t, async () => {
      const r = await gw.post(doc)
      isProblem(t, r, 422, 'b2mml_version_unknown', detail)
      t.same([firstError(r).path, firstError(r).line], ['/SyncProductionSchedule', lineOf(doc, '<SyncProductionSchedule')])
    })
  }
  const mixed = schedule.replace('<ProductionRequest>', '<ProductionRequest xmlns="http://www.mesa.org/xml/B2MML">')
  await importsNothing(t, async () => {
    const r = await gw.post(mixed)
    isProblem(t, r, 422, 'b2mml_version_unknown', /one document is one B2MML version/)
    t.equal(firstError(r).path, '/SyncProductionSchedule/DataArea/ProductionSchedule/ProductionRequest[1]')
  })
})

t.test('an unknown document type, a noun of the other family, an unsupported verb: 422 saying what Takt reads', async (t) => {
  const cases: Array<[string, RegExp]> = [
    [schedule.replaceAll('SyncProductionSchedule', 'SyncWorkSchedule'), /'SyncWorkSchedule' is not a B2MML document Takt reads/],
    [v07.replaceAll('OperationsSchedule', 'ProductionSchedule'), /V0700 and later exchange OperationsSchedule and OperationsPerformance, not ProductionSchedule/],
    [schedule.replaceAll('ProductionSchedule', 'OperationsSchedule'), /V0401–V06xx exchange ProductionSchedule and ProductionPerformance, not OperationsSchedule/],
    [schedule.replaceAll('SyncProductionSchedule', 'ChangeProductionSchedule'), /send ChangeProductionSchedule as SyncProductionSchedule/],
    [schedule.replaceAll('SyncProductionSchedule', 'SyncProductionPerformance'), /Takt produces ProductionPerformance/],
  ]
  for (const [doc, detail] of cases) {
    await importsNothing(t, async () => isProblem(t, await gw.post(doc), 422, 'b2mml_document_unsupported', detail))
  }
})

t.test('a missing required element: 422 with the element path and its line', async (t) => {
  const noId = schedule.replace('<ID>PO-101</ID>', '')
  await importsNothing(t, async () => {
    const r = await gw.post(noId)
    isProblem(t, r, 422, 'b2mml_element_missing', /ProductionRequest needs an ID: it is the order number/)
    t.same(firstError(r), {
      path: '/SyncProductionSchedule/DataArea/ProductionSchedule/ProductionRequest[2]',
      line: lineOf(noId, '<ProductionRequest>', 2),
      column: 7,
      code: 'b2mml_element_missing',
      message: 'ProductionRequest needs an ID: it is the order number.',
    })
    t.equal((await gw.call('GET', '/api/v1/orders/PO-100')).status, 404, 'the valid request in the same document is not imported either')
  })
  const noEquipment = v07.replace('<EquipmentRequirement><EquipmentID>WC-ASSY</EquipmentID></EquipmentRequirement>', '')
  await importsNothing(t, async () => {
    const r = await gw.post(noEquipment)
    isProblem(t, r, 422, 'b2mml_element_missing', /EquipmentRequirement with an EquipmentID: the work center/)
    t.equal(firstError(r).path, '/ProcessOperationsSchedule/DataArea/OperationsSchedule/OperationsRequest/SegmentRequirement[2]')
  })
  const noArea = schedule.replace(/<ApplicationArea>[\s\S]*<\/ApplicationArea>/, '')
  await importsNothing(t, async () => isProblem(t, await gw.post(noArea), 422, 'b2mml_element_missing', /SyncProductionSchedule needs an ApplicationArea/))
})

const withDoctype = (doctype: string, entity: string) => schedule.replace('<SyncProductionSchedule', `${doctype}\n<SyncProductionSchedule`).replace('<Description>Paste, 100 kg</Description>', `<Description>${entity}</Description>`)

t.test('an external entity is refused before anything is read: no DTD at all', async (t) => {
  const doc = withDoctype('<!DOCTYPE SyncProductionSchedule [<!ENTITY secret SYSTEM "file:///etc/passwd">]>', '&secret;')
  await importsNothing(t, async () => {
    const r = await gw.post(doc)
    isProblem(t, r, 400, 'xml_doctype_refused', /DOCTYPE; Takt accepts no DTD/)
    t.notMatch(r.text, /root:/, 'nothing of the file is in the answer')
  })
})

t.test('a billion-laughs document is refused where its DOCTYPE begins, before any entity is read', async (t) => {
  const levels = Array.from({ length: 10 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i};`.repeat(10)}">`).join('\n')
  const doc = withDoctype(`<!DOCTYPE SyncProductionSchedule [\n<!ENTITY lol0 "lol">\n${levels}\n]>`, '&lol10;')
  await importsNothing(t, async () => {
    const r = await gw.post(doc)
    isProblem(t, r, 400, 'xml_doctype_refused', /DOCTYPE/)
    t.same([firstError(r).line, firstError(r).column], [lineOf(doc, '<!DOCTYPE'), 1], 'stopped at the DOCTYPE: nothing after it was read, so nothing was expanded')
    t.notMatch(r.text, /lollol/, 'no expansion in the answer')
  })
  const undeclared = schedule.replace('<Description>Paste, 100 kg</Description>', '<Description>&lol9;</Description>')
  await importsNothing(t, async () => isProblem(t, await gw.post(undeclared), 400, 'xml_malformed', /undefined entity/))
})

/** The schedule padded with a comment to exactly `size` bytes. */
const padded = (size: number) => {
  const text = schedule.replace('WEEK-10', 'WEEK-PAD')
  return text.replace('</SyncProductionSchedule>', `<!--${'x'.repeat(size - Buffer.byteLength(text) - 8)}-->\n</SyncProductionSchedule>`)
}

t.test('a document over the limit is 413 (with and without content-length); one at the limit is read', async (t) => {
  const headers = { authorization: `Bearer ${adminToken}`, 'content-type': 'application/xml' }
  await importsNothing(t, async () => {
    const over = await rawRequest(gw.port, 'POST', '/api/v1/erp/b2mml', { headers, body: padded(limit + 1) })
    t.equal(over.status, 413, over.text)
    t.equal(JSON.parse(over.text).code, 'body_too_large')
    t.match(JSON.parse(over.text).detail, /over the limit of 200000 bytes; nothing was imported/)
    const chunks = Array.from({ length: 4 }, () => ' '.repeat(60_000))
    const chunked = await rawRequest(gw.port, 'POST', '/api/v1/erp/b2mml', { headers: { ...headers, 'transfer-encoding': 'chunked' }, body: [schedule.slice(0, 200), ...chunks] })
    t.equal(chunked.status, 413)
  })
  const doc = padded(limit)
  t.equal(Buffer.byteLength(doc), limit)
  const atLimit = await gw.post(doc, { accept: 'application/json' })
  t.equal(atLimit.status, 200, atLimit.text.slice(0, 300))
  t.equal(atLimit.json!.applied.orders.created, 2)
})

t.test('a body that is not XML by its content type is 415; XML types with UTF-8 are read', async (t) => {
  for (const type of ['application/json', 'text/plain', 'application/xml; charset=iso-8859-1']) {
    await importsNothing(t, async () => {
      const r = await gw.post(schedule.replace('PO-100', 'PO-CT'), { 'content-type': type })
      isProblem(t, r, 415, 'unsupported_media_type', type.includes('charset') ? /UTF-8, not iso-8859-1/ : new RegExp(`not ${type.replace('/', '\\/')}`))
    })
  }
  for (const type of ['text/xml', 'application/xml; charset=UTF-8', 'application/b2mml+xml']) {
    t.equal((await gw.post(schedule, { 'content-type': type })).status, 200, type)
  }
})

t.test('only an integration (or admin) may send documents', async (t) => {
  const token = async (role: string) => (await gw.call('POST', '/api/v1/tokens', { name: `t-${role}`, role })).body.token as string
  const operator = await token('operator')
  const integration = await token('integration')
  await importsNothing(t, async () => {
    isProblem(t, await gw.post(schedule, { authorization: '' }), 401, 'unauthenticated', /bearer token/)
    isProblem(t, await gw.post(schedule, { authorization: `Bearer ${operator}` }), 403, 'forbidden', /integration/)
  })
  t.equal((await gw.post(schedule, { authorization: `Bearer ${integration}` })).status, 200)
})

t.test('every error of a document is listed, each with its path and line, and the whole document is refused', async (t) => {
  const doc = schedule
    .replace('<Duration>PT1H10M</Duration>', '<Duration>P1M</Duration>')
    .replace('<Priority>10</Priority>', '<Priority>urgent</Priority>')
    .replace('<MaterialDefinitionID>HARDENER</MaterialDefinitionID>\n            <Quantity><QuantityString>25</QuantityString>', '<MaterialDefinitionID>HARDENER</MaterialDefinitionID>\n            <Quantity><QuantityString>-1</QuantityString>')
    .replace('<EquipmentID>WC-FILL</EquipmentID>\n          </EquipmentRequirement>\n          <MaterialProducedRequirement>\n            <MaterialDefinitionID>PASTE</MaterialDefinitionID>\n            <Quantity><QuantityString>50</QuantityString>', '<EquipmentID>WC-FILL</EquipmentID>\n            <EquipmentID>WC-MIX</EquipmentID>\n          </EquipmentRequirement>\n          <MaterialProducedRequirement>\n            <MaterialDefinitionID>PASTE</MaterialDefinitionID>\n            <Quantity><QuantityString>50</QuantityString>')
  await importsNothing(t, async () => {
    const r = await gw.post(doc.replaceAll('PO-10', 'PO-E'))
    t.equal(r.status, 422)
    t.equal(r.json!.code, 'b2mml_refused', 'several different codes: one code for the whole')
    const errors = r.json!.errors as Array<{ code: string; line: number; path: string }>
    t.same(errors.map((e) => e.code).sort(), ['b2mml_unmappable', 'b2mml_value_invalid', 'b2mml_value_invalid', 'b2mml_value_invalid'])
    t.same(errors.map((e) => e.line).sort((a, b) => a - b), [lineOf(doc, '<Priority>'), lineOf(doc, '<Duration>P1M'), lineOf(doc, '<QuantityString>-1'), lineOf(doc, '<EquipmentRequirement>', 4)].sort((a, b) => a - b))
    t.match(r.json!.detail, /and 3 more, listed in errors/)
  })
})

t.test('a WorkCenter is placed by its parent: under a site it is refused, at its element, and nothing of the document is defined', async (t) => {
  const good = fixture('v0700-equipment.xml')
  // The line's parent becomes the site: a WorkCenter under a site is neither a line nor a work center.
  const doc = good.replace('<HierarchyScope><EquipmentID>BA</EquipmentID><EquipmentLevel>Area</EquipmentLevel></HierarchyScope>', '<HierarchyScope><EquipmentID>BS</EquipmentID><EquipmentLevel>Site</EquipmentLevel></HierarchyScope>')
  t.not(doc, good, 'the fixture was changed')
  await importsNothing(t, async () => {
    const r = await gw.post(doc, { accept: 'application/json' })
    isProblem(t, r, 422, 'b2mml_refused', /places a WorkCenter by its parent .*'BS' is neither/)
    t.same([firstError(r).code, firstError(r).path, firstError(r).line], ['b2mml_unmappable', '/SyncEquipmentInformation/DataArea/EquipmentInformation/Equipment[3]', lineOf(doc, '<ID>BL</ID>') - 1], 'the line\'s Equipment element')
    // Its two work centers are refused too: their parent line is not defined.
    t.same(r.json!.errors.map((e: { code: string }) => e.code), ['b2mml_unmappable', 'reference_unknown', 'reference_unknown'])
  })
})

t.test('a core refusal names the element it comes from, and the valid request beside it is not imported', async (t) => {
  const doc = schedule.replace('<MaterialDefinitionID>HARDENER</MaterialDefinitionID>\n            <Quantity><QuantityString>25', '<MaterialDefinitionID>UNOBTAINIUM</MaterialDefinitionID>\n            <Quantity><QuantityString>25').replaceAll('PO-10', 'PO-R')
  await importsNothing(t, async () => {
    const r = await gw.post(doc)
    isProblem(t, r, 422, 'reference_unknown', /material 'UNOBTAINIUM' named in items\[1\].materialId is not defined/)
    t.same([firstError(r).path, firstError(r).line], ['/SyncProductionSchedule/DataArea/ProductionSchedule/ProductionRequest[2]/SegmentRequirement[1]/MaterialConsumedRequirement[2]', lineOf(doc, 'UNOBTAINIUM') - 1])
    t.equal((await gw.call('GET', '/api/v1/orders/PO-R0')).status, 404, 'PO-R0 was valid, and is not imported either')
  })
})

t.test('asked for XML, a refusal is the confirmation itself: one Rejected ResponseCriteria per error, XPath and line', async (t) => {
  const doc = v07.replace('<ID>WO-7001</ID>', '')
  await importsNothing(t, async () => {
    const r = await gw.post(doc, { accept: 'application/xml' })
    t.equal(r.status, 422)
    t.equal(r.xml!.name, 'AcknowledgeOperationsSchedule', 'Process is answered by an Acknowledge, also when refused')
    const criteria = kids(at(r.xml, 'DataArea', 'Acknowledge'), 'ResponseCriteria')
    t.equal(criteria.length, 1)
    const expression = at(criteria[0], 'ResponseExpression')!
    t.same(expression.attrs, { actionCode: 'Rejected', expressionLanguage: 'XPath' })
    t.equal(expression.text, '/ProcessOperationsSchedule/DataArea/OperationsSchedule/OperationsRequest')
    t.equal(textAt(criteria[0], 'ChangeStatus', 'ReasonCode'), 'b2mml_element_missing')
    t.match(textAt(criteria[0], 'ChangeStatus', 'Description'), new RegExp(`\\(line ${lineOf(doc, '<OperationsRequest>')}, column 7\\): OperationsRequest needs an ID`))
  })
  const sync = await gw.post(schedule.replace('<ID>PO-100</ID>', ''), { accept: 'application/xml' })
  t.equal(sync.xml!.name, 'ConfirmBOD')
  t.match(textAt(sync.xml, 'DataArea', 'BOD', 'Description'), /^Refused as a whole; nothing was imported: 1 error\./)
  t.equal(kids(at(sync.xml, 'DataArea', 'BOD'), 'Description').length, 2, 'the summary, then each error')
})
