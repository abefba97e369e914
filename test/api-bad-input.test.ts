// Bad input over HTTP: every malformed, mistyped, unknown, oversized or mismatched request gets the right 4xx problem and writes nothing.
import t, { type Test } from 'tap'
import { rawRequest } from './helpers/client.ts'
import { adminToken, removeDir, startTestGateway, type Reply } from './helpers/gateway.ts'
import { completion, defineLine, dispatchedOrder, eventSeq, lot, order, startRun } from './helpers/line.ts'

const gw = await startTestGateway()
t.teardown(async () => {
  await gw.stop()
  removeDir(gw.dataDir)
})
const call = gw.call
const port = gw.running.port
const maxBodyBytes = gw.running.config.http.maxBodyBytes
await defineLine(call)
await dispatchedOrder(call, 'PO-1', 10)
const runId = await startRun(call, 'PO-1')


/** A problem+json answer with every RFC 9457 member Takt promises, the status, the code and a detail matching `detail`. */
function isProblem(t: Test, r: { status: number; body: Record<string, any>; contentType: string | null }, status: number, code: string, detail: RegExp): void {
  t.equal(r.status, status, `status ${status} (${JSON.stringify(r.body)})`)
  t.match(r.contentType, /^application\/problem\+json/, 'content-type is application/problem+json')
  t.equal(r.body.code, code, 'code')
  t.equal(r.body.status, status, 'status member equals the HTTP status')
  t.equal(r.body.type, `urn:takt:problem:${code}`, 'type names the code')
  t.type(r.body.title, 'string')
  t.ok(r.body.title.length > 0, 'title is not empty')
  t.match(r.body.detail, detail, 'detail says what is wrong')
}

const problemOf = (r: Reply) => ({ status: r.status, body: r.body, contentType: r.headers.get('content-type') })

/** Everything a refused request could have touched: the log head and the projections the routes under test write. */
async function snapshot() {
  const [seq, run, ord, resin, orders] = await Promise.all([
    eventSeq(call),
    call('GET', `/api/v1/runs/${runId}`),
    call('GET', '/api/v1/orders/PO-1'),
    call('GET', `/api/v1/lots/${lot.id}`),
    call('GET', '/api/v1/orders?limit=100'),
  ])
  return { seq, run: run.body, order: { ...ord.body, wip: undefined }, lot: resin.body, orders: orders.body.items.length }
}

async function writesNothing(t: Test, act: () => Promise<void>): Promise<void> {
  const before = await snapshot()
  await act()
  const after = await snapshot()
  t.equal(after.seq, before.seq, 'the event log head is unchanged')
  t.same(after, before, 'the projections are unchanged')
}

// Each case: a route, a body, and the problem it must get. The same routes, well-formed, are accepted below.
interface Case {
  name: string
  method: string
  path: string
  body: unknown
  status: number
  code: string
  detail: RegExp
  /** When set, the field path the `errors` list must name. */
  path_?: string
}

const material = { id: 'GLUE', name: 'Glue', uom: 'kg' }
const routingPath = '/api/v1/routings/RT-PASTE/C'
const routingC = { id: 'RT-PASTE', version: 'C', productId: 'PASTE', operations: [{ seq: 10, name: 'Mix', workCenterId: 'WC-MIX' }] }
const runPath = (what: string) => `/api/v1/runs/${runId}/${what}`
const startPath = '/api/v1/orders/PO-1/operations/10/start'

const malformed = '{"id": "GLUE", "name": '
const malformedCases: Case[] = [
  ['PUT', '/api/v1/materials/GLUE'],
  ['PUT', routingPath],
  ['POST', '/api/v1/orders'],
  ['POST', startPath],
  ['POST', runPath('complete')],
  ['POST', runPath('consumptions')],
  ['POST', runPath('measurements')],
].map(([method, path]) => ({ name: `malformed JSON to ${method} ${path}`, method: method!, path: path!, body: malformed, status: 400, code: 'malformed_request', detail: /body is not valid JSON/ }))

const validation = (name: string, method: string, path: string, body: unknown, field: string, detail: RegExp): Case => ({
  name,
  method,
  path,
  body,
  status: 422,
  code: 'validation_failed',
  detail,
  path_: field,
})

const validationCases: Case[] = [
  // Wrong types.
  validation('a number for a material name', 'PUT', '/api/v1/materials/GLUE', { ...material, name: 5 }, 'json.name', /json\.name: .*expected string/),
  validation('an unknown equipment level', 'PUT', '/api/v1/equipment/WC-2', { id: 'WC-2', level: 'galaxy', name: 'x', parentId: 'L1' }, 'json.level', /json\.level/),
  validation('a date that is not ISO 8601', 'PUT', '/api/v1/lots/RESIN-002', { ...lot, id: 'RESIN-002', expiresAt: 'tomorrow' }, 'json.expiresAt', /json\.expiresAt/),
  validation('a text operation seq deep in a routing', 'PUT', routingPath, { ...routingC, operations: [{ ...routingC.operations[0], seq: 'ten' }] }, 'json.operations.0.seq', /json\.operations\.0\.seq/),
  validation('a string order quantity', 'POST', '/api/v1/orders', order('PO-9', '10' as unknown as number), 'json.quantity', /json\.quantity: .*expected number/),
  validation('a fractional order quantity', 'POST', '/api/v1/orders', order('PO-9', 1.5), 'json.quantity', /json\.quantity: .*int/),
  validation('a negative start quantity', 'POST', startPath, { quantity: -1, operatorId: 'olga' }, 'json.quantity', /json\.quantity/),
  validation('a string good count', 'POST', runPath('complete'), { ...completion, good: '1' }, 'json.good', /json\.good/),
  validation('a zero booked quantity', 'POST', runPath('consumptions'), { lot: lot.id, quantity: 0 }, 'json.quantity', /json\.quantity: Too small/),
  validation('a text measurement value', 'POST', runPath('measurements'), { name: 'viscosity', value: 'high', unit: 'Pa.s' }, 'json.value', /json\.value/),
  validation('an id with a space in the path', 'GET', '/api/v1/orders/PO%201', undefined, 'param.id', /param\.id: letters, digits/),
  validation('a text operation seq in the path', 'POST', '/api/v1/orders/PO-1/operations/ten/start', { quantity: 1, operatorId: 'olga' }, 'param.seq', /param\.seq/),
  validation('a limit of zero', 'GET', '/api/v1/orders?limit=0', undefined, 'query.limit', /query\.limit: Too small/),
  // Unknown fields: the schemas are strict at every level.
  validation('an unknown material field', 'PUT', '/api/v1/materials/GLUE', { ...material, colour: 'red' }, 'json', /Unrecognized key: "colour"/),
  validation('an unknown field in a routing operation', 'PUT', routingPath, { ...routingC, operations: [{ ...routingC.operations[0], speed: 3 }] }, 'json.operations.0', /json\.operations\.0: Unrecognized key: "speed"/),
  validation('an unknown order field', 'POST', '/api/v1/orders', { ...order('PO-9', 1), note: 'rush' }, 'json', /Unrecognized key: "note"/),
  validation('an unknown start field', 'POST', startPath, { quantity: 1, operatorId: 'olga', unitt: 'x' }, 'json', /Unrecognized key: "unitt"/),
  validation('a misspelt completion field', 'POST', runPath('complete'), { ...completion, goood: 1 }, 'json', /Unrecognized key: "goood"/),
  validation('an unknown field in a consumption', 'POST', runPath('complete'), { ...completion, consumptions: [{ lot: lot.id, quantity: 1, bin: 'A' }] }, 'json.consumptions.0', /json\.consumptions\.0: Unrecognized key: "bin"/),
  validation('an unknown query parameter', 'GET', '/api/v1/orders?colour=red', undefined, 'query', /Unrecognized key: "colour"/),
  // Missing required fields.
  validation('a material without a unit', 'PUT', '/api/v1/materials/GLUE', { id: 'GLUE', name: 'Glue' }, 'json.uom', /json\.uom: .*received undefined/),
  validation('an order without a line', 'POST', '/api/v1/orders', { ...order('PO-9', 1), lineId: undefined }, 'json.lineId', /json\.lineId/),
  validation('a completion without a good count', 'POST', runPath('complete'), { consumptions: [] }, 'json.good', /json\.good/),
  validation('a consumption without a lot', 'POST', runPath('consumptions'), { quantity: 1 }, 'json.lot', /json\.lot/),
  validation('a measurement without a unit', 'POST', runPath('measurements'), { name: 'viscosity', value: 5 }, 'json.unit', /json\.unit/),
  validation('a hold without a reason', 'POST', '/api/v1/orders/PO-1/hold', {}, 'json.reason', /json\.reason/),
  validation('a JSON array for a material', 'PUT', '/api/v1/materials/GLUE', [], 'json', /json: .*expected object, received array/),
]

const refusalCases: Case[] = [
  // Unknown ids.
  { name: 'an unknown order', method: 'GET', path: '/api/v1/orders/PO-404', body: undefined, status: 404, code: 'not_found', detail: /'PO-404'/ },
  { name: 'an unknown material', method: 'GET', path: '/api/v1/materials/NOPE', body: undefined, status: 404, code: 'not_found', detail: /'NOPE'/ },
  { name: 'an unknown route', method: 'GET', path: '/api/v1/nothing-here', body: undefined, status: 404, code: 'route_not_found', detail: /GET \/api\/v1\/nothing-here/ },
  { name: 'an order for an unknown product', method: 'POST', path: '/api/v1/orders', body: order('PO-9', 1, { productId: 'NOPE' }), status: 422, code: 'reference_unknown', detail: /Product 'NOPE'/ },
  { name: 'an order on an unknown routing version', method: 'POST', path: '/api/v1/orders', body: order('PO-9', 1, { routingVersion: 'Z' }), status: 422, code: 'reference_unknown', detail: /Routing 'RT-PASTE' version 'Z'/ },
  { name: 'a BOM with an unknown component', method: 'PUT', path: '/api/v1/boms/BOM-PASTE/C', body: { id: 'BOM-PASTE', version: 'C', productId: 'PASTE', items: [{ materialId: 'NOPE', quantityPer: 1 }] }, status: 422, code: 'reference_unknown', detail: /'NOPE' named in items\[0\]\.materialId/ },
  { name: 'a routing on an unknown work center', method: 'PUT', path: routingPath, body: { ...routingC, operations: [{ ...routingC.operations[0], workCenterId: 'WC-NOPE' }] }, status: 422, code: 'reference_unknown', detail: /'WC-NOPE' named in operations\[0\]\.workCenterId/ },
  { name: 'an equipment under an unknown parent', method: 'PUT', path: '/api/v1/equipment/WC-2', body: { id: 'WC-2', level: 'work_center', name: 'x', parentId: 'L9' }, status: 422, code: 'reference_unknown', detail: /'L9' named in parentId/ },
  { name: 'a start on an unknown order', method: 'POST', path: '/api/v1/orders/PO-404/operations/10/start', body: { quantity: 1, operatorId: 'olga' }, status: 404, code: 'not_found', detail: /'PO-404'/ },
  { name: 'a start of an unknown operation', method: 'POST', path: '/api/v1/orders/PO-1/operations/99/start', body: { quantity: 1, operatorId: 'olga' }, status: 404, code: 'operation_not_found', detail: /operation 99/ },
  { name: 'a completion of an unknown run', method: 'POST', path: '/api/v1/runs/RUN-404/complete', body: completion, status: 404, code: 'not_found', detail: /'RUN-404'/ },
  { name: 'a consumption on an unknown run', method: 'POST', path: '/api/v1/runs/RUN-404/consumptions', body: { lot: lot.id, quantity: 1 }, status: 404, code: 'not_found', detail: /'RUN-404'/ },
  { name: 'a measurement on an unknown run', method: 'POST', path: '/api/v1/runs/RUN-404/measurements', body: { name: 'viscosity', value: 5, unit: 'Pa.s' }, status: 404, code: 'not_found', detail: /'RUN-404'/ },
  { name: 'an unknown measurement name', method: 'POST', path: runPath('measurements'), body: { name: 'colour', value: 5, unit: 'Pa.s' }, status: 422, code: 'measurement_unknown', detail: /no measurement 'colour'/ },
  { name: 'a completion without its measurement', method: 'POST', path: runPath('complete'), body: { ...completion, measurements: [] }, status: 422, code: 'measurement_missing', detail: /viscosity/ },
  // Path and body name different things.
  { name: 'a material whose body id is not the path id', method: 'PUT', path: '/api/v1/materials/GLUE', body: { ...material, id: 'PASTE-2' }, status: 422, code: 'path_mismatch', detail: /\(PASTE-2\) is not the one named in the path/ },
  { name: 'a BOM whose body version is not the path version', method: 'PUT', path: '/api/v1/boms/BOM-PASTE/C', body: { id: 'BOM-PASTE', version: 'A', productId: 'PASTE', items: [{ materialId: 'RESIN', quantityPer: 2 }] }, status: 422, code: 'path_mismatch', detail: /\(BOM-PASTE A\)/ },
  { name: 'a routing whose body id is not the path id', method: 'PUT', path: routingPath, body: { ...routingC, id: 'RT-OTHER' }, status: 422, code: 'path_mismatch', detail: /\(RT-OTHER C\)/ },
]

for (const c of [...malformedCases, ...validationCases, ...refusalCases]) {
  t.test(c.name, async (t) => {
    await writesNothing(t, async () => {
      const r = await call(c.method, c.path, c.body)
      isProblem(t, problemOf(r), c.status, c.code, c.detail)
      if (c.path_ !== undefined) t.ok(r.body.errors.some((e: { path: string }) => e.path === c.path_), `errors name ${c.path_}: ${JSON.stringify(r.body.errors)}`)
    })
  })
}

t.test('a refused lot scan is recorded, and changes nothing else', async (t) => {
  const before = await snapshot()
  const r = await call('POST', runPath('consumptions'), { lot: 'LOT-404', quantity: 1 })
  isProblem(t, problemOf(r), 422, 'lot_unknown', /'LOT-404' is not a known lot/)
  const after = await snapshot()
  t.equal(after.seq, before.seq + 1, 'exactly one event: the refusal, kept for the audit trail')
  t.equal(r.body.recordedSeq, after.seq)
  const refusals = await call('GET', '/api/v1/refusals')
  t.equal(refusals.body.items[0].lotId, 'LOT-404')
  t.same({ ...after, seq: 0 }, { ...before, seq: 0 }, 'run, order and lots are unchanged')
})

const auth = { authorization: `Bearer ${adminToken}` }
const json = { ...auth, 'content-type': 'application/json' }

/** A material body padded with JSON whitespace to exactly `size` bytes. */
const paddedMaterial = (id: string, size: number) => {
  const text = JSON.stringify({ id, name: 'Padded', uom: 'kg' })
  return text.slice(0, -1) + ' '.repeat(size - text.length) + '}'
}

t.test('a body over http.maxBodyBytes gets 413, one at the limit is accepted', async (t) => {
  t.equal(maxBodyBytes, 1024 * 1024, 'the default limit is 1 MiB')
  await writesNothing(t, async () => {
    const over = await rawRequest(port, 'PUT', '/api/v1/materials/BIG-1', { headers: json, body: paddedMaterial('BIG-1', maxBodyBytes + 1) })
    isProblem(t, { status: over.status, body: JSON.parse(over.text), contentType: String(over.headers['content-type']) }, 413, 'body_too_large', /over the limit of 1048576 bytes/)
    // Without a content-length the limit is enforced while the body streams in.
    const chunks = Array.from({ length: 17 }, () => ' '.repeat(64 * 1024))
    const chunked = await rawRequest(port, 'POST', runPath('complete'), { headers: { ...json, 'transfer-encoding': 'chunked' }, body: ['{"good": 1', ...chunks, '}'] })
    isProblem(t, { status: chunked.status, body: JSON.parse(chunked.text), contentType: String(chunked.headers['content-type']) }, 413, 'body_too_large', /1048576 bytes/)
    const orderOver = await rawRequest(port, 'POST', '/api/v1/orders', { headers: json, body: JSON.stringify(order('PO-BIG', 1)) + ' '.repeat(maxBodyBytes) })
    t.equal(orderOver.status, 413)
  })
  const seq = await eventSeq(call)
  const at = await rawRequest(port, 'PUT', '/api/v1/materials/BIG-2', { headers: json, body: paddedMaterial('BIG-2', maxBodyBytes) })
  t.equal(at.status, 200, `a body of exactly ${maxBodyBytes} bytes is accepted: ${at.text}`)
  t.equal(await eventSeq(call), seq + 1)
  t.equal((await call('GET', '/api/v1/materials/BIG-2')).body.name, 'Padded')
})

t.test('a body that is not JSON by its content type gets 415', async (t) => {
  const body = JSON.stringify({ ...material, id: 'CT-1' })
  for (const type of ['text/plain', 'application/xml', 'application/x-www-form-urlencoded', 'application/jsonx']) {
    await writesNothing(t, async () => {
      const r = await rawRequest(port, 'PUT', '/api/v1/materials/CT-1', { headers: { ...auth, 'content-type': type }, body })
      isProblem(t, { status: r.status, body: JSON.parse(r.text), contentType: String(r.headers['content-type']) }, 415, 'unsupported_media_type', new RegExp(`not ${type.replace('/', '\\/')}`))
    })
  }
  await writesNothing(t, async () => {
    const r = await rawRequest(port, 'POST', '/api/v1/orders/PO-1/release', { headers: { ...auth, 'content-type': 'text/plain' }, body: 'release' })
    t.equal(r.status, 415, 'also on a route that takes no body')
    // With no content type at all the answer is 415 too (its code is not the catalogue's: see test/known-bugs).
    const none = await rawRequest(port, 'POST', runPath('complete'), { headers: auth, body: JSON.stringify(completion) })
    t.equal(none.status, 415)
    t.match(none.headers['content-type'], /^application\/problem\+json/)
  })
  const seq = await eventSeq(call)
  const ok = await rawRequest(port, 'PUT', '/api/v1/materials/CT-1', { headers: { ...auth, 'content-type': 'application/json; charset=utf-8' }, body })
  t.equal(ok.status, 200, 'application/json with a charset is accepted')
  t.equal(await eventSeq(call), seq + 1)
})

t.test('the same routes, well-formed, are accepted and write', async (t) => {
  const accepted = async (method: string, path: string, body: unknown, status = 200) => {
    const seq = await eventSeq(call)
    const r = await call(method, path, body)
    t.equal(r.status, status, `${method} ${path}: ${JSON.stringify(r.body)}`)
    t.ok((await eventSeq(call)) > seq, `${method} ${path} recorded events`)
    return r
  }
  await accepted('PUT', '/api/v1/materials/GLUE', material)
  await accepted('PUT', '/api/v1/equipment/WC-2', { id: 'WC-2', level: 'work_center', name: 'Mixer 2', parentId: 'L1' })
  await accepted('PUT', '/api/v1/boms/BOM-PASTE/C', { id: 'BOM-PASTE', version: 'C', productId: 'PASTE', items: [{ materialId: 'RESIN', quantityPer: 1 }] })
  await accepted('PUT', routingPath, routingC)
  await accepted('POST', '/api/v1/orders', order('PO-9', 1), 201)
  await accepted('POST', runPath('measurements'), { name: 'viscosity', value: 5, unit: 'Pa.s' }, 201)
  await accepted('POST', runPath('consumptions'), { lot: lot.id, quantity: 1 }, 201)
  const done = await accepted('POST', runPath('complete'), { good: 1 })
  t.equal(done.body.runId, runId)
  t.equal((await call('GET', `/api/v1/runs/${runId}`)).body.state, 'completed')
  await accepted('POST', startPath, { quantity: 1, operatorId: 'olga' }, 201)
})
