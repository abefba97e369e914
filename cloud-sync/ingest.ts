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
export async function applyPush(orm: CloudOrm, gatewayId: string, body: PushBody, reportedHeadSeq: number | null = null): Promise<PushOutcome> {
  const first = body.events[0]!
  for (let i = 1; i < body.events.length; i++) {
    const e = body.events[i]!
    if (e.seq !== first.seq + i) return { ok: false, code: 'sync.not-consecutive', status: 400, detail: `events[${i}]: seq ${e.seq} does not follow seq ${first.seq + i - 1}; a batch is consecutive and in order`, seq: e.seq }
  }
  // Every event's hash must be its own, recomputed from its fields and prev_hash exactly as the
  // gateway does: checked before the gateway's row is locked, so another push's commit is not held up by it.
  const altered = body.events.find((e) => eventHash(e) !== e.hash)
  try {
    return await orm.transaction(async (tx) => {
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
    })
  } catch (error) {
    if (error instanceof Refused) return error.outcome
    throw error
  }
}

/**
 * The batch's rows as one INSERT from ten arrays (unnest): PostgreSQL parses one statement with
 * twelve parameters instead of twelve per row, which is most of the cost of a multi-row VALUES.
 */
async function insertEvents(orm: CloudOrm, gatewayId: string, epoch: number, events: StoredEvent[]): Promise<void> {
  const column = <K extends keyof StoredEvent>(k: K) => sql.param(events.map((e) => e[k]))
  await orm.execute(sql`
    INSERT INTO events (gateway_id, epoch, seq, id, type, subject, data, actor, occurred_at, recorded_at, prev_hash, hash)
    SELECT ${gatewayId}, ${epoch}, * FROM unnest(
      ${column('seq')}::bigint[], ${column('id')}::text[], ${column('type')}::text[], ${column('subject')}::text[], ${column('data')}::text[],
      ${column('actor')}::text[], ${column('occurredAt')}::text[], ${column('recordedAt')}::text[], ${column('prevHash')}::text[], ${column('hash')}::text[])`)
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
