// Applying a gateway's pushed batch in one transaction: duplicates acknowledged, gaps answered, the hash chain verified and continued.
import { and, between, eq, sql } from 'drizzle-orm'
import { z } from 'zod'
import { eventHash, genesisHash, type StoredEvent } from '../edge/store/event-log.ts'
import type { CloudOrm } from './database.ts'
import { foldBatch } from './projection.ts'
import * as schema from './schema.ts'

const hash = z.string().regex(/^[0-9a-f]{64}$/, 'a SHA-256 hash in lower-case hex')

export const pushedEvent = z.strictObject({
  seq: z.number().int().min(1),
  id: z.string().min(1).max(128),
  type: z.string().min(1).max(128),
  subject: z.string().max(512),
  data: z.string(),
  actor: z.string().max(256),
  occurredAt: z.string().min(1).max(64),
  recordedAt: z.string().min(1).max(64),
  prevHash: hash,
  hash,
})

/** Most events one push may carry; the pusher sends fewer. */
export const maxBatchEvents = 10_000

export const pushBody = z.strictObject({
  epoch: z.number().int().min(1),
  events: z.array(pushedEvent).min(1).max(maxBatchEvents),
})

export type PushBody = z.infer<typeof pushBody>

const hexHash = /^[0-9a-f]{64}$/
const text = (v: unknown, min: number, max: number) => typeof v === 'string' && v.length >= min && v.length <= max
const eventKeys = 10

/**
 * The push body if it is exactly what `pushBody` accepts, else null: the same rules written out,
 * about a fifth of the schema's own walk per event (0.5 µs against 2.7 µs here), which adds up at
 * catch-up. A body it does not accept is checked by `pushBody`, which names what is wrong.
 */
export function acceptPushBody(value: unknown): PushBody | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null
  const body = value as Record<string, unknown>
  if (Object.keys(body).length !== 2 || !Number.isSafeInteger(body.epoch) || (body.epoch as number) < 1) return null
  const events = body.events
  if (!Array.isArray(events) || events.length < 1 || events.length > maxBatchEvents) return null
  for (const e of events as Record<string, unknown>[]) {
    if (typeof e !== 'object' || e === null || Array.isArray(e) || Object.keys(e).length !== eventKeys) return null
    if (!Number.isSafeInteger(e.seq) || (e.seq as number) < 1) return null
    if (!text(e.id, 1, 128) || !text(e.type, 1, 128) || !text(e.subject, 0, 512) || typeof e.data !== 'string' || !text(e.actor, 0, 256)) return null
    if (!text(e.occurredAt, 1, 64) || !text(e.recordedAt, 1, 64)) return null
    if (typeof e.prevHash !== 'string' || !hexHash.test(e.prevHash) || typeof e.hash !== 'string' || !hexHash.test(e.hash)) return null
  }
  return body as unknown as PushBody
}

export interface Head {
  epoch: number
  seq: number
  hash: string
}

export type PushOutcome =
  | { ok: true; applied: number; duplicates: number; head: Head }
  /** The batch starts after the cloud's head: send from expectedSeq. */
  | { ok: false; code: 'sync.gap'; status: 409; detail: string; expectedSeq: number; head: Head }
  /** An event's hash does not match its fields, or its prev_hash does not continue the chain. */
  | { ok: false; code: 'sync.chain-broken'; status: 422; detail: string; seq: number; head: Head }
  /** An already applied seq arrived with different contents: a replaced or forked log. */
  | { ok: false; code: 'sync.conflict'; status: 409; detail: string; seq: number; head: Head }
  /** An epoch older than the gateway's current one, or a new epoch that does not start at seq 1. */
  | { ok: false; code: 'sync.epoch'; status: 409; detail: string; head: Head }
  | { ok: false; code: 'sync.unknown-gateway'; status: 404; detail: string }
  | { ok: false; code: 'sync.not-consecutive'; status: 400; detail: string; seq: number }

type Refusal = Exclude<PushOutcome, { ok: true }>


class Refused extends Error {
  readonly outcome: Refusal
  constructor(outcome: Refusal) {
    super(outcome.detail)
    this.outcome = outcome
  }
}

export async function readHead(orm: CloudOrm, gatewayId: string): Promise<Head | null> {
  const [g] = await orm.select({ epoch: schema.gateways.epoch, seq: schema.gateways.headSeq, hash: schema.gateways.headHash }).from(schema.gateways).where(eq(schema.gateways.id, gatewayId))
  return g ?? null
}

/**
 * Applies one batch. Everything is checked before anything is written, and the whole batch
 * commits in one transaction with the gateway's row locked, so two pushes of the same gateway
 * never interleave and a refusal changes nothing.
 */
/** Runs a gateway's transactions one after the other in this process (see `inTurnPerGateway`). */
export type InTurn = <T>(gatewayId: string, run: () => Promise<T>) => Promise<T>

/**
 * One gateway's transactions one at a time, the others' side by side: a pipelined push waits here
 * for the one before it, rather than holding a pooled connection while PostgreSQL makes it wait
 * for the gateway's row. The row lock stays what orders pushes across processes.
 */
export function inTurnPerGateway(): InTurn {
  const last = new Map<string, Promise<unknown>>()
  return (gatewayId, run) => {
    const mine = (last.get(gatewayId) ?? Promise.resolve()).then(run)
    const settled = mine.catch(() => {})
    last.set(gatewayId, settled)
    void settled.then(() => {
      if (last.get(gatewayId) === settled) last.delete(gatewayId)
    })
    return mine
  }
}

const atOnce: InTurn = (_gatewayId, run) => run()

export async function applyPush(orm: CloudOrm, gatewayId: string, body: PushBody, reportedHeadSeq: number | null = null, inTurn: InTurn = atOnce): Promise<PushOutcome> {
  const first = body.events[0]!
  for (let i = 1; i < body.events.length; i++) {
    const e = body.events[i]!
    if (e.seq !== first.seq + i) return { ok: false, code: 'sync.not-consecutive', status: 400, detail: `events[${i}]: seq ${e.seq} does not follow seq ${first.seq + i - 1}; a batch is consecutive and in order`, seq: e.seq }
  }
  // Every event's hash must be its own, recomputed from its fields and prev_hash exactly as the
  // gateway does: checked before the gateway's row is locked, so another push's commit is not held up by it.
  const altered = body.events.find((e) => eventHash(e) !== e.hash)
  try {
    return await inTurn(gatewayId, () => orm.transaction(async (tx) => {
      const [g] = await tx.select().from(schema.gateways).where(eq(schema.gateways.id, gatewayId)).for('update')
      if (!g) throw new Refused({ ok: false, code: 'sync.unknown-gateway', status: 404, detail: `gateway '${gatewayId}' is not registered` })
      let head: Head = { epoch: g.epoch, seq: g.headSeq, hash: g.headHash }
      if (body.epoch < head.epoch) throw new Refused({ ok: false, code: 'sync.epoch', status: 409, detail: `epoch ${body.epoch} is older than the gateway's current epoch ${head.epoch}`, head })
      if (body.epoch > head.epoch) {
        // A new epoch is a new log (the gateway's database was replaced): it starts from the genesis hash.
        if (first.seq !== 1) throw new Refused({ ok: false, code: 'sync.epoch', status: 409, detail: `a new epoch ${body.epoch} must start at seq 1, not ${first.seq}`, head })
        head = { epoch: body.epoch, seq: 0, hash: genesisHash }
      }
      if (altered) throw new Refused({ ok: false, code: 'sync.chain-broken', status: 422, detail: `seq ${altered.seq}: the hash does not match the event's contents (altered in transit or at the gateway)`, seq: altered.seq, head })
      const dupes = body.events.filter((e) => e.seq <= head.seq)
      if (dupes.length > 0) await checkDuplicates(tx as unknown as CloudOrm, gatewayId, head, dupes)
      const fresh = body.events.filter((e) => e.seq > head.seq)
      // The gateway's own head as it reported it with this push: what the cloud knows of its backlog.
      const report = reportedHeadSeq === null ? {} : { reportedHeadSeq, reportedHeadAt: sql`now()` }
      if (fresh.length === 0) {
        if (reportedHeadSeq !== null) await tx.update(schema.gateways).set(report).where(eq(schema.gateways.id, gatewayId))
        return { ok: true as const, applied: 0, duplicates: dupes.length, head }
      }
      if (fresh[0]!.seq !== head.seq + 1) {
        throw new Refused({ ok: false, code: 'sync.gap', status: 409, detail: `the batch starts at seq ${fresh[0]!.seq}; the next expected is ${head.seq + 1}`, expectedSeq: head.seq + 1, head })
      }
      let prev = head.hash
      for (const e of fresh) {
        if (e.prevHash !== prev) throw new Refused({ ok: false, code: 'sync.chain-broken', status: 422, detail: `seq ${e.seq}: prev_hash does not continue the chain from seq ${e.seq - 1}`, seq: e.seq, head })
        prev = e.hash
      }
      await insertEvents(tx as unknown as CloudOrm, gatewayId, head.epoch, fresh)
      await foldBatch(tx as unknown as CloudOrm, gatewayId, fresh)
      const last = fresh.at(-1)!
      const next: Head = { epoch: head.epoch, seq: last.seq, hash: last.hash }
      await tx.update(schema.gateways).set({ epoch: next.epoch, headSeq: next.seq, headHash: next.hash, lastPushAt: sql`now()`, ...report }).where(eq(schema.gateways.id, gatewayId))
      return { ok: true as const, applied: fresh.length, duplicates: dupes.length, head: next }
    }))
  } catch (error) {
    if (error instanceof Refused) return error.outcome
    throw error
  }
}

/**
 * The batch's rows as one INSERT from one JSON parameter (json_to_recordset): PostgreSQL parses
 * one statement and one text value, and the driver sends the text as it is. Ten array parameters
 * cost about as much again in the driver (each array rebuilt as an escaped literal) and in the
 * server (each literal parsed) as the insert itself.
 */
async function insertEvents(orm: CloudOrm, gatewayId: string, epoch: number, events: StoredEvent[]): Promise<void> {
  await orm.execute(sql`
    INSERT INTO events (gateway_id, epoch, seq, id, type, subject, data, actor, occurred_at, recorded_at, prev_hash, hash)
    SELECT ${gatewayId}, ${epoch}, seq, id, type, subject, data, actor, "occurredAt", "recordedAt", "prevHash", hash
    FROM json_to_recordset(${JSON.stringify(events)}::json)
      AS r(seq bigint, id text, type text, subject text, data text, actor text, "occurredAt" text, "recordedAt" text, "prevHash" text, hash text)`)
}

/** A resent event is acknowledged only if it is the one already stored; anything else is a conflict. */
async function checkDuplicates(orm: CloudOrm, gatewayId: string, head: Head, dupes: StoredEvent[]): Promise<void> {
  const e = schema.events
  const rows = await orm
    .select({ seq: e.seq, hash: e.hash })
    .from(e)
    .where(and(eq(e.gatewayId, gatewayId), eq(e.epoch, head.epoch), between(e.seq, dupes[0]!.seq, dupes.at(-1)!.seq)))
  const stored = new Map(rows.map((r) => [r.seq, r.hash]))
  for (const d of dupes) {
    if (stored.get(d.seq) !== d.hash) {
      throw new Refused({ ok: false, code: 'sync.conflict', status: 409, detail: `seq ${d.seq} was already applied with different contents; the gateway's log does not match the central copy`, seq: d.seq, head })
    }
  }
}
