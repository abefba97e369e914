// The role matrix, from the OpenAPI document: every operation × every role answers as the table below intends; anonymous gets 401.
import t from 'tap'
import { roles, type Role } from '../../edge/core/model.ts'
import { adminToken } from '../helpers/gateway.ts'
import { completion, dispatchedOrder, eventSeq, lineGateway, login, order, password, startRun } from '../helpers/line.ts'

// The statement of intent, written apart from the routes' own guard() calls: who may call each operation.
// Admin may do everything (guard() lets it), so every row includes it. A route missing here fails the test.
const all: readonly Role[] = roles
const staff = (...rs: Role[]): readonly Role[] => ['admin', ...rs]
const readers = staff('operator', 'lead', 'quality', 'maintenance', 'integration')
const open = 'anonymous' as const

const matrix: Record<string, readonly Role[] | typeof open> = {
  'POST /api/v1/auth/login': open,
  'POST /api/v1/auth/badge': open,
  'POST /api/v1/auth/logout': all,
  'GET /api/v1/auth/me': all,
  'PUT /api/v1/people/{id}/password': staff(),
  'POST /api/v1/tokens': staff(),
  'PUT /api/v1/people/{id}/badge': staff(),
  'POST /api/v1/people/{id}/deactivate': staff(),
  'PUT /api/v1/terminals/{id}': staff(),
  'GET /api/v1/terminals': staff('quality'),
  'DELETE /api/v1/people/{id}/badge': staff(),

  // Master data comes from ERP (integration); everyone on the line reads it.
  ...Object.fromEntries(
    ['equipment/{id}', 'materials/{id}', 'boms/{id}/{version}', 'routings/{id}/{version}', 'people/{id}', 'lots/{id}'].flatMap((p) => {
      const list = p.split('/')[0]
      return [
        [`PUT /api/v1/${p}`, staff('integration')],
        [`GET /api/v1/${p}`, readers],
        [`GET /api/v1/${list}`, readers],
      ]
    }),
  ),

  'POST /api/v1/orders': staff('integration', 'lead'),
  'GET /api/v1/orders': readers,
  'GET /api/v1/orders/{id}': readers,
  'POST /api/v1/orders/{id}/release': staff('lead', 'integration'),
  'POST /api/v1/orders/{id}/dispatch': staff('lead'),
  'POST /api/v1/orders/{id}/hold': staff('lead', 'quality'),
  'POST /api/v1/orders/{id}/release-hold': staff('lead', 'quality'),
  'POST /api/v1/orders/{id}/cancel': staff('lead', 'integration'),
  'POST /api/v1/orders/{id}/close': staff('lead', 'quality'),
  'GET /api/v1/work-centers/{id}/dispatch-list': readers,
  'PUT /api/v1/work-centers/{id}/dispatch-list': staff('lead'),
  'GET /api/v1/wip': readers,

  // Execution: operators and leads on the floor, integration for machine-driven lines; quality and maintenance watch.
  'POST /api/v1/orders/{id}/operations/{seq}/start': staff('operator', 'lead', 'integration'),
  'POST /api/v1/runs/{runId}/pause': staff('operator', 'lead', 'integration'),
  'POST /api/v1/runs/{runId}/resume': staff('operator', 'lead', 'integration'),
  'POST /api/v1/runs/{runId}/consumptions': staff('operator', 'lead', 'integration'),
  'POST /api/v1/runs/{runId}/measurements': staff('operator', 'lead', 'integration'),
  'POST /api/v1/runs/{runId}/complete': staff('operator', 'lead', 'integration'),
  'GET /api/v1/runs/{runId}': readers,

  'GET /api/v1/genealogy/backward': readers,
  'GET /api/v1/genealogy/forward': readers,
  'GET /api/v1/as-built/units/{id}': readers,
  'GET /api/v1/as-built/lots/{id}': readers,
  'POST /api/v1/units/{id}/release-hold': staff('quality'),
  'GET /api/v1/nonconformances': staff('quality', 'lead'),
  'GET /api/v1/nonconformances/{id}': staff('quality', 'lead'),
  'POST /api/v1/nonconformances/{id}/disposition': staff('quality'),
  'POST /api/v1/as-built/corrections': staff('quality'),
  'GET /api/v1/refusals': staff('quality', 'lead'),
  'GET /api/v1/events': staff('quality', 'integration'),
  'GET /api/v1/audit/verify': staff('quality'),
  'GET /api/v1/audit/trail': staff('quality'),
  'GET /api/v1/audit/export': staff('quality'),
  // Batch and device history records; any recorded event may be read with its signatures, and signed by quality or a lead.
  'GET /api/v1/orders/{id}/record': staff('quality', 'lead'),
  'GET /api/v1/units/{id}/record': staff('quality', 'lead'),
  'GET /api/v1/records/{seq}': staff('quality', 'lead', 'integration'),
  'POST /api/v1/records/{seq}/signatures': staff('quality', 'lead'),
  'GET /api/v1/signatures': readers,

  'GET /api/v1/historian/signals': readers,
  'GET /api/v1/historian/samples': readers,
  'GET /api/v1/connectivity': staff('lead', 'maintenance', 'integration'),
  // A backup copies every record the gateway holds: administrators only.
  'POST /api/v1/admin/backups': staff(),

  'GET /api/v1/oee': readers,
  'GET /api/v1/work-centers/{id}/oee/current': readers,
  'GET /api/v1/work-centers/{id}/oee/settings': readers,
  'PUT /api/v1/work-centers/{id}/oee/settings': staff('lead', 'integration'),
  'GET /api/v1/work-centers/{id}/downtime': readers,
  'POST /api/v1/work-centers/{id}/downtime/classify': staff('operator', 'lead', 'maintenance', 'integration'),
  'POST /api/v1/work-centers/{id}/downtime/split': staff('operator', 'lead', 'maintenance', 'integration'),
  'POST /api/v1/work-centers/{id}/downtime/merge': staff('operator', 'lead', 'maintenance', 'integration'),
  'GET /api/v1/shift-calendars': readers,
  'PUT /api/v1/shift-calendars/{id}': staff('lead', 'integration'),
  'PUT /api/v1/equipment/{id}/shift-calendar': staff('lead', 'integration'),
  'GET /api/v1/reason-codes': readers,
  'PUT /api/v1/reason-codes': staff('lead', 'integration'),

  'GET /api/v1/live': readers,
  'GET /api/v1/hmi/andon': readers,
  'GET /api/v1/hmi/runs/{runId}': readers,
  'GET /api/v1/hmi/reason-codes': readers,
  'GET /api/v1/hmi/holds': staff('quality', 'lead'),
  'GET /api/v1/hmi/alerts': staff('lead', 'quality'),
  'GET /api/v1/hmi/audit': staff('quality'),

  // B2MML in is integration's alone; its as-built out is read by integration, leads and quality.
  'POST /api/v1/erp/b2mml': staff('integration'),
  'GET /api/v1/erp/performance/orders/{id}': staff('integration', 'lead', 'quality'),
  'GET /api/v1/erp/performance/orders/{id}/segments/{seq}': staff('integration', 'lead', 'quality'),
}

// Routes the gateway serves that the OpenAPI document does not list: held to the same table by hand.
const undocumented: Record<string, readonly Role[]> = {
  'GET /api/v1/erp/documents': staff('integration'),
  'GET /api/v1/erp/documents/{id}': staff('integration'),
  'GET /api/v1/erp/outbox': staff('integration'),
  'POST /api/v1/erp/outbox/{id}/retry': staff('integration'),
  'GET /openapi.json': all,
}

const gw = await lineGateway(t)
// The seeded line: an order with a running operation, a serialized order, a scratch person to change.
await dispatchedOrder(gw.call, 'PO-1', 5)
const runId = await startRun(gw.call, 'PO-1')
await gw.call('POST', '/api/v1/orders', order('PO-W', 1, { productId: 'WIDGET', bomId: 'BOM-WIDGET', routingId: 'RT-WIDGET', serials: ['SN-1'] }))
await gw.call('PUT', '/api/v1/people/pat', { id: 'pat', name: 'Pat Scratch', roles: ['operator'] })
await gw.call('PUT', '/api/v1/people/bea', { id: 'bea', name: 'Bea Badge', roles: ['operator'] })
await gw.call('PUT', '/api/v1/people/bea/badge', { badgeId: 'B-BEA', pin: '4711' })
const erpDocument = (await gw.call('GET', '/api/v1/erp/documents')).body.items?.[0]?.id ?? 'none'

const people: Record<string, string> = { operator: 'olga', lead: 'leo', quality: 'quentin' }
await gw.call('PUT', '/api/v1/people/mia', { id: 'mia', name: 'Mia Maintenance', roles: ['maintenance'] })
await gw.call('PUT', '/api/v1/people/mia/password', { password })
people.maintenance = 'mia'

/** A bearer token per role: people log in with their password; admin and integration are API tokens. */
const tokens = {} as Record<Role, string>
for (const role of roles) {
  if (role === 'admin') tokens.admin = adminToken
  else if (role === 'integration') tokens.integration = (await gw.call('POST', '/api/v1/tokens', { name: 'matrix-erp', role: 'integration' })).body.token as string
  else {
    const r = await login(gw.call, people[role]!)
    const token = r.body.token as string | undefined
    if (!token) throw new Error(`login as ${people[role]} (${role}): ${r.status} ${JSON.stringify(r.body)}`)
    tokens[role] = token
  }
}

const now = new Date().toISOString()
const hourAgo = new Date(Date.now() - 3600_000).toISOString()
/** A body that passes validation, so that a refusal can only come from the role check. */
const bodies: Record<string, unknown | ((role: Role) => unknown)> = {
  'POST /api/v1/records/{seq}/signatures': (role: Role) => ({ signature: { meaning: 'review', username: people[role] ?? 'nobody', password } }),
  'POST /api/v1/auth/login': { username: 'olga', password },
  'POST /api/v1/auth/badge': { badgeId: 'B-BEA', pin: '4711' },
  'POST /api/v1/people/{id}/deactivate': { reason: 'matrix' },
  'PUT /api/v1/terminals/{id}': { name: 'Matrix terminal', location: 'Mixer' },
  'POST /api/v1/nonconformances/{id}/disposition': { disposition: 'scrap', reason: 'matrix' },
  'POST /api/v1/as-built/corrections': { seq: 1, value: 1, reason: 'matrix' },
  'PUT /api/v1/people/{id}/password': { password },
  'POST /api/v1/tokens': { name: 'matrix-probe', role: 'operator' },
  'PUT /api/v1/people/{id}/badge': { badgeId: 'B-PAT', pin: '4711' },
  'PUT /api/v1/equipment/{id}': { id: 'WC-MIX', level: 'work_center', name: 'Mixer', parentId: 'L1', ratedCycleTimeS: 10 },
  'PUT /api/v1/materials/{id}': { id: 'RESIN', name: 'Resin', uom: 'kg', serialized: false },
  'PUT /api/v1/boms/{id}/{version}': { id: 'BOM-PASTE', version: 'A', productId: 'PASTE', items: [{ materialId: 'RESIN', quantityPer: 1 }] },
  'PUT /api/v1/routings/{id}/{version}': { id: 'RT-PASTE', version: 'A', productId: 'PASTE', operations: [{ seq: 10, name: 'Mix', workCenterId: 'WC-MIX', components: [{ materialId: 'RESIN', quantityPer: 1 }], measurements: [{ name: 'viscosity', unit: 'Pa.s', lower: 1, upper: 10 }], instructions: 'Mix one batch.' }] },
  'PUT /api/v1/people/{id}': { id: 'pat', name: 'Pat Scratch', roles: ['operator'] },
  'PUT /api/v1/lots/{id}': { id: 'RESIN-001', materialId: 'RESIN', status: 'released', quantity: 1_000_000 },
  'POST /api/v1/orders': order('PO-M', 1),
  'POST /api/v1/orders/{id}/hold': { reason: 'matrix' },
  'POST /api/v1/orders/{id}/release-hold': { reason: 'matrix' },
  'POST /api/v1/orders/{id}/cancel': { reason: 'matrix' },
  'PUT /api/v1/work-centers/{id}/dispatch-list': { orderIds: ['PO-1'] },
  'POST /api/v1/orders/{id}/operations/{seq}/start': { quantity: 1, operatorId: 'olga' },
  'POST /api/v1/runs/{runId}/pause': { reason: 'matrix' },
  'POST /api/v1/runs/{runId}/consumptions': { lot: 'RESIN-001', quantity: 1 },
  'POST /api/v1/runs/{runId}/measurements': { name: 'viscosity', value: 5, unit: 'Pa.s' },
  'POST /api/v1/runs/{runId}/complete': completion,
  'POST /api/v1/units/{id}/release-hold': { reason: 'matrix' },
  'PUT /api/v1/work-centers/{id}/oee/settings': { microStopThresholdMs: 1000 },
  'POST /api/v1/work-centers/{id}/downtime/classify': { from: hourAgo, reason: 'R-NONE', why: 'matrix' },
  'POST /api/v1/work-centers/{id}/downtime/split': { from: hourAgo, at: now, reasons: ['R-A', 'R-B'], why: 'matrix' },
  'POST /api/v1/work-centers/{id}/downtime/merge': { from: hourAgo, why: 'matrix' },
  'PUT /api/v1/shift-calendars/{id}': { id: 'CAL-1', timeZone: 'UTC', shifts: [{ name: 'Day', days: [1, 2, 3, 4, 5], start: '06:00', end: '14:00' }] },
  'PUT /api/v1/equipment/{id}/shift-calendar': { calendarId: null },
  'PUT /api/v1/reason-codes': { reasons: [{ code: 'R-A', name: 'Jam', loss: 'breakdown', planned: false }] },
  'POST /api/v1/erp/b2mml': '<ProcessProductionSchedule/>',
}
/** Queries that GET routes require (validation runs before the role check, so they must be valid). */
const queries: Record<string, string> = {
  'GET /api/v1/genealogy/backward': '?lot=RESIN-001',
  'GET /api/v1/genealogy/forward': '?lot=RESIN-001',
  'GET /api/v1/historian/samples': `?signal=none&from=${hourAgo}&to=${now}`,
  'GET /api/v1/oee': `?workCenterId=WC-MIX&from=${hourAgo}&to=${now}`,
  'GET /api/v1/work-centers/{id}/downtime': `?from=${hourAgo}&to=${now}`,
  'GET /api/v1/events': '?limit=1',
}

/** Fills a path template with ids that exist on the seeded line. */
function fill(template: string): string {
  const resource = template.split('/')[3] ?? ''
  const ids: Record<string, string> = { equipment: 'WC-MIX', materials: 'RESIN', boms: 'BOM-PASTE', routings: 'RT-PASTE', people: 'pat', lots: 'RESIN-001', orders: 'PO-1', 'work-centers': 'WC-MIX', units: 'SN-1', 'shift-calendars': 'CAL-1', terminals: 'T-1', nonconformances: 'NC-NONE', erp: 'PO-1', records: '1' }
  return template.replace(/\{(\w+)\}/g, (_, name: string) => {
    if (name === 'runId') return runId
    if (name === 'version') return 'A'
    if (name === 'seq') return resource === 'records' ? '1' : '10'
    if (template.startsWith('/api/v1/as-built/units/')) return 'SN-1'
    if (template.startsWith('/api/v1/as-built/lots/')) return 'RESIN-001'
    if (template.startsWith('/api/v1/erp/documents/')) return erpDocument
    if (template.startsWith('/api/v1/erp/outbox/')) return '1'
    return ids[resource] ?? 'X'
  })
}

interface Answer {
  status: number
  code: string | undefined
}

/** One request; an event stream is judged by its status and then dropped. */
async function hit(key: string, role: Role | null): Promise<Answer> {
  const token = role === null ? null : tokens[role]
  const [method, template] = key.split(' ') as [string, string]
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {}
  const given = bodies[key]
  const body = typeof given === 'function' ? (given as (r: Role) => unknown)(role ?? 'admin') : given
  const init: RequestInit = { method, headers }
  if (body !== undefined) {
    headers['content-type'] = typeof body === 'string' ? 'application/xml' : 'application/json'
    init.body = typeof body === 'string' ? body : JSON.stringify(body)
  }
  const abort = new AbortController()
  init.signal = abort.signal
  const res = await fetch(gw.url + fill(template) + (queries[key] ?? ''), init)
  if ((res.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
    abort.abort()
    return { status: res.status, code: undefined }
  }
  const text = await res.text()
  let code: string | undefined
  try {
    code = (JSON.parse(text) as { code?: string }).code
  } catch {
    code = undefined
  }
  return { status: res.status, code }
}

const doc = (await gw.call('GET', '/openapi.json')).body as { paths: Record<string, Record<string, unknown>> }
const documented = Object.entries(doc.paths).flatMap(([path, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`))

t.test('every operation in the OpenAPI document has its roles in the table', async (t) => {
  const missing = documented.filter((k) => !(k in matrix))
  t.same(missing, [], `operations without an entry in the role matrix (add each to test/security/role-matrix.test.ts with its roles):\n  ${missing.join('\n  ')}`)
  const stale = Object.keys(matrix).filter((k) => !documented.includes(k))
  t.same(stale, [], `entries in the role matrix that the OpenAPI document no longer has:\n  ${stale.join('\n  ')}`)
  t.ok(documented.length >= 70, `the document lists ${documented.length} operations`)
})

t.test('every route the gateway serves is in the document or in the table of undocumented routes', async (t) => {
  // hono's own route list: also the routes mounted with app.get/app.post that the document does not show.
  const served = gw.running.gateway.app.routes
    .filter((r) => r.method !== 'ALL' && (r.path.startsWith('/api/') || r.path === '/openapi.json'))
    .map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, '{$1}')}`)
  const unknown = [...new Set(served)].filter((k) => !(k in matrix) && !(k in undocumented))
  t.same(unknown, [], `routes served but in neither table (add each with its roles):\n  ${unknown.join('\n  ')}`)
})

// Logout ends the caller's own session: it goes last, after every other operation has been tried.
const keys = [...documented.filter((k) => k in matrix), ...Object.keys(undocumented)].sort((a, b) => Number(a.endsWith('/auth/logout')) - Number(b.endsWith('/auth/logout')))
const intended = (key: string) => matrix[key] ?? undocumented[key]!

t.test('anonymous: 401 everywhere but login, badge login, health and the HMI files', async (t) => {
  const seq = await eventSeq(gw.call)
  for (const key of keys) {
    const a = await hit(key, null)
    if (intended(key) === open) t.not(a.code, 'unauthenticated', `${key} is open to anonymous (${a.status} ${a.code})`)
    else t.match(a, { status: 401, code: 'unauthenticated' }, `${key} anonymously`)
  }
  for (const path of ['/health', '/', '/hmi/index.html']) t.equal((await fetch(gw.url + path)).status, 200, `GET ${path} anonymously`)
  t.equal(await eventSeq(gw.call), seq, 'nothing was recorded')
})

t.test('a role the table does not allow gets 403 and writes nothing', async (t) => {
  const seq = await eventSeq(gw.call)
  for (const key of keys) {
    const allowed = intended(key)
    if (allowed === open) continue
    for (const role of roles.filter((r) => !allowed.includes(r))) {
      const a = await hit(key, role)
      t.match(a, { status: 403, code: 'forbidden' }, `${key} as ${role} is refused (${a.status} ${a.code})`)
    }
  }
  t.equal(await eventSeq(gw.call), seq, 'no refused request recorded anything')
})

t.test('a role the table allows gets past authentication and the role check', async (t) => {
  for (const key of keys) {
    const allowed = intended(key)
    for (const role of allowed === open ? roles : allowed) {
      const a = await hit(key, role)
      // A rule of the route may still refuse (a wrong re-authentication, a token that cannot sign, a two-person rule), but not the token or the role.
      t.ok(a.code !== 'unauthenticated' && a.code !== 'forbidden' && a.code !== 'route_not_found', `${key} as ${role} is let through (${a.status} ${a.code ?? ''})`)
    }
  }
})
