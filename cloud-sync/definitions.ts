// ERP's intake at the cloud: master data and orders assigned to a line, kept as that line's definitions and written to the shape log.
import { and, eq, sql } from 'drizzle-orm'
import type { z } from 'zod'
import * as S from '../edge/api/schemas.ts'
import { canonicalJson } from '../edge/core/canonical-json.ts'
import type { CloudOrm } from './database.ts'
import * as schema from './schema.ts'

/**
 * The kinds a line's gateway receives, in the order it applies them within one batch: an order
 * names its routing and BOM, a routing its work centers, so definitions go first.
 */
export const definitionKinds = ['equipment', 'material', 'bom', 'routing', 'person', 'lot', 'order'] as const
export type DefinitionKind = (typeof definitionKinds)[number]

/** Each kind with the gateway's own request schema: the cloud refuses what the gateway would refuse. */
const kindSchemas: Record<DefinitionKind, z.ZodType> = {
  equipment: S.Equipment,
  material: S.Material,
  bom: S.Bom,
  routing: S.Routing,
  person: S.Person,
  lot: S.Lot,
  order: S.OrderRequest,
}

export const kindRank = (kind: string): number => {
  const i = definitionKinds.indexOf(kind as DefinitionKind)
  return i < 0 ? definitionKinds.length : i
}

export interface Definition {
  kind: DefinitionKind
  key: string
  body: Record<string, unknown>
}

export type Checked = { ok: true; definitions: Definition[] } | { ok: false; errors: Array<{ path: string; message: string }> }

/** A versioned definition (BOM, routing) is keyed by id and version, the rest by id. */
export function keyOf(kind: DefinitionKind, body: Record<string, unknown>): string {
  return kind === 'bom' || kind === 'routing' ? `${String(body.id)}/${String(body.version)}` : String(body.id)
}

/** One definition through the gateway's own schema for its kind: the parsed body (defaults filled in), or the issues with their paths. */
export function checkDefinition(kind: DefinitionKind, value: unknown): { ok: true; body: Record<string, unknown> } | { ok: false; errors: Array<{ path: string; message: string }> } {
  const parsed = kindSchemas[kind].safeParse(value)
  if (parsed.success) return { ok: true, body: parsed.data as Record<string, unknown> }
  return { ok: false, errors: parsed.error.issues.map((i) => ({ path: i.path.join('.') || '(definition)', message: i.message })) }
}

/** Checks a whole batch before anything is written: one bad entry refuses the batch, naming where. */
export function checkDefinitions(lineId: string, input: unknown): Checked {
  const errors: Array<{ path: string; message: string }> = []
  const list = (input as { definitions?: unknown } | null)?.definitions
  if (typeof input !== 'object' || input === null || Array.isArray(input) || !Array.isArray(list)) {
    return { ok: false, errors: [{ path: 'definitions', message: 'expected {"definitions": [{"kind": …, "definition": {…}}, …]}' }] }
  }
  const extra = Object.keys(input).filter((k) => k !== 'definitions')
  if (extra.length > 0) errors.push({ path: extra[0]!, message: 'unknown field' })
  if (list.length === 0 || list.length > 1000) errors.push({ path: 'definitions', message: `send 1 to 1000 definitions, not ${list.length}` })
  const definitions: Definition[] = []
  list.slice(0, 1000).forEach((entry: unknown, i) => {
    const at = `definitions.${i}`
    const e = entry as { kind?: unknown; definition?: unknown } | null
    if (typeof e !== 'object' || e === null) return errors.push({ path: at, message: 'expected an object with kind and definition' })
    const kind = e.kind as DefinitionKind
    if (!definitionKinds.includes(kind)) return errors.push({ path: `${at}.kind`, message: `one of ${definitionKinds.join(', ')}` })
    const parsed = kindSchemas[kind].safeParse(e.definition)
    if (!parsed.success) {
      for (const issue of parsed.error.issues.slice(0, 5)) errors.push({ path: [`${at}.definition`, ...issue.path].join('.'), message: issue.message })
      return
    }
    const body = parsed.data as Record<string, unknown>
    if (kind === 'order' && body.lineId !== lineId) return errors.push({ path: `${at}.definition.lineId`, message: `the order is for line '${String(body.lineId)}', not '${lineId}'` })
    definitions.push({ kind, key: keyOf(kind, body), body })
  })
  return errors.length > 0 ? { ok: false, errors: errors.slice(0, 20) } : { ok: true, definitions }
}

export interface Stored {
  /** Definitions that were new or changed (and went into the shape log). */
  changed: number
  unchanged: number
  /** The shape log's offset after the write. */
  offset: number
}

/**
 * Stores a checked batch in one transaction. The shape log is locked for the write so that its
 * offsets are committed in the order they are handed out: a follower that has read offset N never
 * misses an N-1 committed later. The same definition sent again changes nothing.
 */
export async function storeDefinitions(orm: CloudOrm, lineId: string, definitions: Definition[]): Promise<Stored> {
  return orm.transaction(async (tx) => {
    await tx.execute(sql`LOCK TABLE definition_changes IN EXCLUSIVE MODE`)
    let changed = 0
    let offset = 0
    const d = schema.lineDefinitions
    for (const def of definitions) {
      const body = canonicalJson(def.body)
      const [current] = await tx.select({ body: d.body }).from(d).where(and(eq(d.lineId, lineId), eq(d.kind, def.kind), eq(d.key, def.key)))
      if (current?.body === body) continue
      const [change] = await tx
        .insert(schema.definitionChanges)
        .values({ lineId, kind: def.kind, key: def.key, operation: current ? 'update' : 'insert', body })
        .returning({ offset: schema.definitionChanges.offset })
      offset = change!.offset
      await tx
        .insert(d)
        .values({ lineId, kind: def.kind, key: def.key, body, changeOffset: offset })
        .onConflictDoUpdate({ target: [d.lineId, d.kind, d.key], set: { body, changeOffset: offset, updatedAt: sql`now()` } })
      changed += 1
    }
    if (changed === 0) offset = await latestOffset(tx as unknown as CloudOrm)
    return { changed, unchanged: definitions.length - changed, offset }
  })
}

export async function latestOffset(orm: CloudOrm): Promise<number> {
  const [row] = await orm.select({ max: sql<string | null>`max(${schema.definitionChanges.offset})` }).from(schema.definitionChanges)
  return row?.max === null || row?.max === undefined ? 0 : Number(row.max)
}
