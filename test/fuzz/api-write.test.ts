// Fuzz: random bodies, params and content types on every write route of the JSON API, and random or mutated B2MML: never a 5xx, nothing written when refused.
import fc from 'fast-check'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { loadConfig } from '../../edge/config.ts'
import { parseXml, XmlRefusal } from '../../edge/erp/xml.ts'
import { buildGateway } from '../../edge/gateway.ts'
import { fixture } from '../erp/helpers.ts'
import { adminToken, removeDir } from '../helpers/gateway.ts'
import { bom, completion, equipment, lot, materials, order, people, routing } from '../helpers/line.ts'
import { runs, seedNote } from './seed.ts'

t.comment(seedNote)

const dataDir = mkdtempSync(join(tmpdir(), 'takt-fuzz-'))
const gateway = buildGateway(loadConfig({ env: { TAKT_DATA_DIR: dataDir, TAKT_LOG_LEVEL: 'silent', TAKT_ADMIN_TOKEN: adminToken } }))
t.teardown(() => {
  gateway.close()
  removeDir(dataDir)
})

async function request(method: string, path: string, body?: string, type = 'application/json') {
  const headers: Record<string, string> = { authorization: `Bearer ${adminToken}` }
  if (body !== undefined) headers['content-type'] = type
  const res = await gateway.app.request(path, { method, headers, ...(body !== undefined ? { body } : {}) })
  const text = await res.text()
  let json: Record<string, unknown> | null = null
  try {
    json = JSON.parse(text) as Record<string, unknown>
  } catch {
    json = null
  }
  return { status: res.status, json, text }
}

// A line to act on, so that valid-looking requests get past "unknown id" into the rules.
for (const e of equipment) await request('PUT', `/api/v1/equipment/${e.id}`, JSON.stringify(e))
for (const m of materials) await request('PUT', `/api/v1/materials/${m.id}`, JSON.stringify(m))
await request('PUT', `/api/v1/boms/${bom.id}/A`, JSON.stringify(bom))
await request('PUT', `/api/v1/routings/${routing.id}/A`, JSON.stringify(routing))
for (const p of people) await request('PUT', `/api/v1/people/${p.id}`, JSON.stringify(p))
await request('PUT', `/api/v1/lots/${lot.id}`, JSON.stringify(lot))
await request('POST', '/api/v1/orders', JSON.stringify(order('PO-1', 50)))
await request('POST', '/api/v1/orders/PO-1/release')
await request('POST', '/api/v1/orders/PO-1/dispatch')
const started = await request('POST', '/api/v1/orders/PO-1/operations/10/start', JSON.stringify({ quantity: 1, operatorId: 'olga' }))
const runId = String(started.json?.runId ?? 'no-run')

const doc = (await request('GET', '/openapi.json')).json as { paths: Record<string, Record<string, unknown>> }
const writes = Object.entries(doc.paths).flatMap(([path, item]) => Object.keys(item).filter((m) => m !== 'get').map((m) => ({ method: m.toUpperCase(), path })))
// B2MML is XML, not JSON: it has its own property below.
const jsonWrites = writes.filter((w) => w.path !== '/api/v1/erp/b2mml')

const realIds = ['WC-MIX', 'L1', 'RESIN', 'PASTE', 'BOM-PASTE', 'RT-PASTE', 'A', 'olga', 'leo', 'RESIN-001', 'PO-1', '10', runId]
// null: the id that fits the route (the seeded line's); otherwise any id, a real one of another kind, or something strange.
const param = fc.oneof({ weight: 6, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.constantFrom(...realIds) }, { weight: 1, arbitrary: fc.string({ minLength: 1, maxLength: 20 }) }, { weight: 1, arbitrary: fc.constantFrom('%00', '..%2F..', '%E2%80%AE', '-1', '1e99', 'ＡＢＣ') })
const fitting: Record<string, string> = { equipment: 'WC-MIX', materials: 'PASTE', boms: 'BOM-PASTE', routings: 'RT-PASTE', people: 'olga', lots: 'RESIN-001', orders: 'PO-1', 'work-centers': 'WC-MIX', units: 'SN-1', runs: runId }
function fill(path: string, values: Array<string | null>): string {
  const resource = path.split('/')[3] ?? ''
  let i = 0
  return path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = values[i++ % values.length] ?? null
    if (value === null) return name === 'version' ? 'A' : name === 'seq' ? '10' : name === 'runId' ? runId : (fitting[resource] ?? 'X')
    return encodeURIComponent(safeDecode(value))
  })
}
const safeDecode = (s: string) => {
  try {
    return decodeURIComponent(s)
  } catch {
    return s
  }
}

const now = new Date().toISOString()
const hourAgo = new Date(Date.now() - 3600_000).toISOString()
// Valid bodies to bend, by route: sent as they are, or with one field replaced, dropped or added.
const reason = { reason: 'fuzz' }
const seedFor: Array<[RegExp, unknown]> = [
  [/^POST \/api\/v1\/orders$/, order('PO-F', 3)],
  [/\/complete$/, completion],
  [/\/(hold|release-hold|cancel|pause|deactivate)$/, reason],
  [/\/start$/, { quantity: 1, operatorId: 'olga' }],
  [/\/consumptions$/, { lot: 'RESIN-001', quantity: 1 }],
  [/\/measurements$/, { name: 'viscosity', value: 5, unit: 'Pa.s' }],
  [/^PUT \/api\/v1\/equipment\/\{id\}$/, equipment[3]],
  [/^PUT \/api\/v1\/materials/, materials[0]],
  [/^PUT \/api\/v1\/boms/, bom],
  [/^PUT \/api\/v1\/routings/, routing],
  [/^PUT \/api\/v1\/people\/\{id\}$/, people[0]],
  [/^PUT \/api\/v1\/lots/, lot],
  [/dispatch-list$/, { orderIds: ['PO-1'] }],
  [/oee\/settings$/, { microStopThresholdMs: 1000 }],
  [/password$/, { password: 'fuzz fuzz fuzz fuzz' }],
  [/tokens$/, { name: 'fuzz', role: 'operator' }],
  [/auth\/login$/, { username: 'olga', password: 'not her password' }],
  [/auth\/badge$/, { badgeId: 'B-1', pin: '4711' }],
  [/people\/\{id\}\/badge$/, { badgeId: 'B-1', pin: '4711' }],
  [/downtime\/classify$/, { from: hourAgo, reason: 'R-A', why: 'fuzz' }],
  [/downtime\/split$/, { from: hourAgo, at: now, reasons: ['R-A', 'R-A'], why: 'fuzz' }],
  [/downtime\/merge$/, { from: hourAgo, why: 'fuzz' }],
  [/^PUT \/api\/v1\/shift-calendars/, { id: 'X', timeZone: 'UTC', shifts: [{ name: 'Day', days: [1, 2, 3, 4, 5], start: '06:00', end: '14:00' }] }],
  [/shift-calendar$/, { calendarId: null }],
  [/reason-codes$/, { reasons: [{ code: 'R-A', name: 'Jam', loss: 'breakdown', planned: false }] }],
  [/terminals/, { name: 'Fuzz terminal', location: 'Mixer' }],
  [/disposition$/, { disposition: 'scrap', reason: 'fuzz' }],
  [/corrections$/, { seq: 1, value: 1, reason: 'fuzz' }],
  [/signatures$/, { signature: { meaning: 'review', password: 'not a password' } }],
]
const seeds = seedFor.map(([, seed]) => seed)
const seedOf = (key: string) => seedFor.find(([pattern]) => pattern.test(key))?.[1]

function bent(seed: unknown) {
  return fc.record({ key: fc.string({ maxLength: 12 }), value: fc.jsonValue({ maxDepth: 2 }), how: fc.constantFrom('as-is', 'as-is', 'replace', 'drop', 'add') }).map(({ key, value, how }) => {
    const copy = structuredClone(seed) as Record<string, unknown>
    const keys = Object.keys(copy)
    const target = keys.length > 0 && how !== 'add' ? keys[key.length % keys.length]! : key
    if (how === 'drop') delete copy[target]
    else if (how !== 'as-is') copy[target] = value
    return JSON.stringify(copy)
  })
}
const bodyFor = (key: string) => {
  const own = seedOf(key)
  return fc.oneof(
    { weight: own === undefined ? 0 : 5, arbitrary: bent(own ?? {}) },
    { weight: 2, arbitrary: fc.constantFrom(...seeds).chain(bent) },
    { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
    { weight: 1, arbitrary: fc.constant(undefined) },
  )
}
// A route with a body that fits it more often than not: random bodies alone stop at validation.
const routeAndBody = fc.constantFrom(...jsonWrites).chain((route) => fc.tuple(fc.constant(route), bodyFor(`${route.method} ${route.path}`)))
const contentType = fc.oneof({ weight: 8, arbitrary: fc.constant('application/json') }, { weight: 1, arbitrary: fc.constantFrom('text/plain', 'application/json; charset=latin1', 'application/xml', 'multipart/form-data') })

t.test('write routes: any body, params and content type: a 2xx or a clear 4xx, and a refusal writes nothing', async (t) => {
  const statuses = new Map<number, number>()
  const codes = new Map<string, number>()
  await fc.assert(
    fc.asyncProperty(routeAndBody, fc.array(param, { minLength: 1, maxLength: 3 }), contentType, async ([route, payload], values, type) => {
      const path = fill(route.path, values)
      const before = gateway.store.head()
      const r = await request(route.method, path, payload, type)
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1)
      if (r.status >= 500) throw new Error(`${route.method} ${path} answered ${r.status}: ${r.text.slice(0, 300)}`)
      if (r.status >= 400) codes.set(String(r.json?.code), (codes.get(String(r.json?.code)) ?? 0) + 1)
      if (r.status >= 400) {
        if (r.json === null || typeof r.json.code !== 'string' || typeof r.json.detail !== 'string') throw new Error(`${route.method} ${path} ${r.status} is not problem+json: ${r.text.slice(0, 200)}`)
        const after = gateway.store.head()
        // A refusal the rules keep on record (e.g. a refused start, for the audit trail) says so in recordedSeq.
        if (after.seq !== before.seq && r.json.recordedSeq !== after.seq) throw new Error(`${route.method} ${path} was refused (${r.status} ${r.json.code}) but the event log moved from ${before.seq} to ${after.seq}`)
      }
    }),
    runs(800),
  )
  const summary = [...statuses].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s}×${n}`).join(' ')
  t.ok([...statuses.keys()].some((s) => s < 300), `some requests were accepted: ${summary}`)
  t.ok([...statuses.keys()].some((s) => s === 422), `and many refused: ${summary}`)
  t.comment(`refusals by code: ${[...codes].sort((a, b) => b[1] - a[1]).map(([c, n]) => `${c}×${n}`).join(' ')}`)
})

const schedule = fixture('v0700-schedule.xml')
const xml = fc.oneof(
  // A real schedule with a slice cut out, a slice repeated, or a character changed.
  fc.record({ at: fc.nat(), len: fc.integer({ min: 1, max: 200 }), ch: fc.string({ minLength: 1, maxLength: 3 }), how: fc.constantFrom('cut', 'repeat', 'change', 'truncate') }).map(({ at, len, ch, how }) => {
    const i = at % schedule.length
    if (how === 'cut') return schedule.slice(0, i) + schedule.slice(i + len)
    if (how === 'repeat') return schedule.slice(0, i + len) + schedule.slice(i)
    if (how === 'truncate') return schedule.slice(0, i)
    return schedule.slice(0, i) + ch + schedule.slice(i + ch.length)
  }),
  fc.string({ maxLength: 300 }),
  fc.constantFrom('<!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>', '<?xml version="1.0" encoding="UTF-16"?><a/>', '<a>'.repeat(100), '<a xmlns="urn:x"><b/></a>', ''),
)

t.test('B2MML: random and mutated documents get a clear answer, never a 5xx, nothing recorded when refused, and the parser throws only its own refusal', async (t) => {
  const statuses = new Map<number, number>()
  await fc.assert(
    fc.asyncProperty(xml, async (text) => {
      try {
        parseXml(text)
      } catch (error) {
        if (!(error instanceof XmlRefusal)) throw new Error(`parseXml threw ${String(error)} for ${JSON.stringify(text.slice(0, 100))}`)
      }
      const before = gateway.store.head()
      const r = await request('POST', '/api/v1/erp/b2mml', text, 'application/xml')
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1)
      if (r.status >= 500) throw new Error(`B2MML answered ${r.status}: ${r.text.slice(0, 300)}`)
      if (r.status >= 400 && (r.json === null || typeof r.json.detail !== 'string')) throw new Error(`B2MML ${r.status} without a problem detail: ${r.text.slice(0, 200)}`)
      if (r.status >= 400 && gateway.store.head().seq !== before.seq) throw new Error(`a refused B2MML document (${r.status}) moved the event log from ${before.seq} to ${gateway.store.head().seq}`)
    }),
    runs(600),
  )
  const summary = [...statuses].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s}×${n}`).join(' ')
  t.ok([...statuses.keys()].some((s) => s >= 400 && s < 500), `documents refused with a 4xx: ${summary}`)
})
