// The ElectricSQL shape protocol for line definitions, served by cloud-sync itself: snapshot, offsets, live long-poll, up-to-date, must-refetch.
//
// The same requests work against the Electric sync service in front of the same PostgreSQL
// (docs/cloud.md): `@electric-sql/client` on the gateway cannot tell the two apart. Only the one
// shape a gateway needs is served: table line_definitions, where line_id = '…'.
import { createHash, randomBytes } from 'node:crypto'
import { and, asc, eq, gt, inArray, sql } from 'drizzle-orm'
import type { CloudOrm } from './database.ts'
import { kindRank, latestOffset } from './definitions.ts'
import * as schema from './schema.ts'

export const shapeTable = 'line_definitions'
const relation = ['public', shapeTable]
const pageSize = 500

/** Column types as the client's parser reads them (every column travels as text). */
export const shapeSchemaHeader = JSON.stringify(Object.fromEntries(['line_id', 'kind', 'key', 'body'].map((c) => [c, { type: 'text', dimensions: 0 }])))

export type ShapeRequest = { lineId: string; offset: number | 'start' | 'now'; handle: string | null; live: boolean }

/** Reads table, where (a literal or `$1` with params[1]), offset, handle and live; anything else is a 400 with the reason. */
export function parseShapeRequest(url: URL): { ok: true; request: ShapeRequest } | { ok: false; message: string } {
  const q = url.searchParams
  const table = q.get('table')
  if (table !== shapeTable && table !== `public.${shapeTable}`) return { ok: false, message: `table must be ${shapeTable}, not ${table === null ? 'missing' : `'${table}'`}` }
  const where = q.get('where') ?? ''
  const literal = /^\s*"?line_id"?\s*=\s*'((?:[^']|'')*)'\s*$/.exec(where)
  const positional = /^\s*"?line_id"?\s*=\s*\$1\s*$/.test(where)
  const lineId = literal ? literal[1]!.replaceAll("''", "'") : positional ? q.get('params[1]') : null
  if (lineId === null || lineId === '') return { ok: false, message: `where must be line_id = '<line id>' (or line_id = $1 with params[1]), not '${where}'` }
  const offsetText = q.get('offset')
  let offset: ShapeRequest['offset']
  if (offsetText === '-1') offset = 'start'
  else if (offsetText === 'now') offset = 'now'
  else {
    const m = /^(\d+)_(\d+)$/.exec(offsetText ?? '')
    if (!m) return { ok: false, message: `offset must be -1, now or <number>_<number>, not ${offsetText === null ? 'missing' : `'${offsetText}'`}` }
    offset = Number(m[1])
  }
  const handle = q.get('handle')
  if (typeof offset === 'number' && handle === null) return { ok: false, message: 'a handle is needed with an offset other than -1 or now' }
  return { ok: true, request: { lineId, offset, handle, live: q.get('live') === 'true' } }
}

/** Wakes the long-polls of a line when its definitions change in this process; other replicas are seen by polling. */
export class ShapeNotifier {
  readonly #waiting = new Map<string, Set<() => void>>()
  #closed = false

  /** The service is stopping: every long-poll answers at once and none waits again. */
  close(): void {
    this.#closed = true
    this.changed(null)
  }

  get closed(): boolean {
    return this.#closed
  }

  changed(lineId: string | null): void {
    for (const [line, wakers] of this.#waiting) {
      if (lineId !== null && line !== lineId) continue
      for (const wake of wakers) wake()
    }
  }

  /** Resolves on a change of the line, after `ms`, or when the request is aborted. */
  wait(lineId: string, ms: number, signal: AbortSignal | undefined): Promise<void> {
    if (this.#closed) return Promise.resolve()
    return new Promise((resolve) => {
      const wakers = this.#waiting.get(lineId) ?? new Set()
      this.#waiting.set(lineId, wakers)
      const done = () => {
        clearTimeout(timer)
        wakers.delete(done)
        if (wakers.size === 0) this.#waiting.delete(lineId)
        signal?.removeEventListener('abort', done)
        resolve()
      }
      const timer = setTimeout(done, ms)
      wakers.add(done)
      signal?.addEventListener('abort', done)
    })
  }
}

/**
 * What makes a handle: this database's own random id (a follower of a replaced database must not
 * continue its old offsets) and the generation a reset raises.
 */
export async function shapeGeneration(orm: CloudOrm): Promise<string> {
  const s = schema.cloudSettings
  await orm.insert(s).values({ key: 'shape_database', value: randomBytes(6).toString('hex') }).onConflictDoNothing()
  const rows = await orm.select({ key: s.key, value: s.value }).from(s).where(inArray(s.key, ['shape_database', 'shape_generation']))
  const value = (key: string) => rows.find((r) => r.key === key)?.value
  return `${value('shape_database')}.${value('shape_generation') ?? '1'}`
}

/** Raises the generation: every follower is told to refetch its shape from the start (and does so without stopping the line). */
export async function resetShapes(orm: CloudOrm): Promise<void> {
  const s = schema.cloudSettings
  await orm
    .insert(s)
    .values({ key: 'shape_generation', value: '2' })
    .onConflictDoUpdate({ target: s.key, set: { value: sql`(${s.value}::bigint + 1)::text` } })
}

export const handleOf = (lineId: string, generation: string) => `${createHash('sha256').update(lineId).digest('hex').slice(0, 12)}-${generation}`

type Row = { offset: number; kind: string; key: string; operation: string; body: string }

function message(lineId: string, r: Row, fromLog: boolean) {
  const headers: Record<string, unknown> = { operation: r.operation, relation }
  if (fromLog) Object.assign(headers, { lsn: String(r.offset), op_position: 0, last: true })
  return { headers, key: `"public"."${shapeTable}"/"${lineId}"/"${r.kind}"/"${r.key}"`, value: { line_id: lineId, kind: r.kind, key: r.key, body: r.body } }
}

export interface ShapeAnswer {
  status: 200 | 409
  headers: Record<string, string>
  body: unknown[]
}

export interface ShapeServeOptions {
  /** How long a live request waits for a change before it answers up-to-date. */
  longPollMs: number
  /** While waiting, how often the log is read for changes made by another replica. */
  pollMs: number
  signal?: AbortSignal
}

/** Answers one shape request. */
export async function serveShape(orm: CloudOrm, notifier: ShapeNotifier, req: ShapeRequest, options: ShapeServeOptions): Promise<ShapeAnswer> {
  const handle = handleOf(req.lineId, await shapeGeneration(orm))
  const base = { 'electric-handle': handle, 'electric-schema': shapeSchemaHeader, 'cache-control': 'no-store' }
  const upToDate = { headers: { control: 'up-to-date' } }
  // An offset of an older handle cannot be continued: the follower starts again from the snapshot.
  if (typeof req.offset === 'number' && req.handle !== handle) return { status: 409, headers: base, body: [{ headers: { control: 'must-refetch' } }] }
  const answer = (offset: number, messages: unknown[], complete: boolean): ShapeAnswer => {
    const headers: Record<string, string> = { ...base, 'electric-offset': `${offset}_0` }
    if (req.live) headers['electric-cursor'] = String(Math.floor(Date.now() / 20_000))
    if (complete) headers['electric-up-to-date'] = ''
    return { status: 200, headers, body: complete ? [...messages, upToDate] : messages }
  }
  if (req.offset === 'now') return answer(await latestOffset(orm), [], true)
  if (req.offset === 'start') {
    const d = schema.lineDefinitions
    // Read in one transaction: the offset handed out is the one the snapshot is consistent with.
    const { rows, offset } = await orm.transaction(async (tx) => {
      const t = tx as unknown as CloudOrm
      const offset = await latestOffset(t)
      const rows = await t.select({ kind: d.kind, key: d.key, body: d.body, offset: d.changeOffset }).from(d).where(eq(d.lineId, req.lineId))
      return { rows, offset }
    })
    // Kind by kind, and within a kind in the order ERP sent them (a parent before its children).
    rows.sort((a, b) => kindRank(a.kind) - kindRank(b.kind) || a.offset - b.offset)
    return answer(offset, rows.map((r) => message(req.lineId, { ...r, operation: 'insert' }, false)), true)
  }
  const from = req.offset
  const deadline = Date.now() + (req.live ? options.longPollMs : 0)
  for (;;) {
    const c = schema.definitionChanges
    const rows = await orm
      .select({ offset: c.offset, kind: c.kind, key: c.key, operation: c.operation, body: c.body })
      .from(c)
      .where(and(eq(c.lineId, req.lineId), gt(c.offset, from)))
      .orderBy(asc(c.offset))
      .limit(pageSize + 1)
    if (rows.length > 0) {
      const page = rows.slice(0, pageSize)
      return answer(page.at(-1)!.offset, page.map((r) => message(req.lineId, r, true)), rows.length <= pageSize)
    }
    const left = deadline - Date.now()
    if (left <= 0 || options.signal?.aborted || notifier.closed) return answer(from, [], true)
    await notifier.wait(req.lineId, Math.min(left, options.pollMs), options.signal)
    if (notifier.closed) return answer(from, [], true)
    // A reset while waiting: the follower learns the new handle now.
    const now = handleOf(req.lineId, await shapeGeneration(orm))
    if (now !== handle) return { status: 409, headers: { ...base, 'electric-handle': now }, body: [{ headers: { control: 'must-refetch' } }] }
  }
}
