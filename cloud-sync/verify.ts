// Walks a gateway's stored chain and names the first broken link: tampering at rest is found, not only on the wire.
import { and, asc, eq, gt } from 'drizzle-orm'
import { eventHash, genesisHash } from '../edge/store/event-log.ts'
import type { CloudOrm } from './database.ts'
import * as schema from './schema.ts'

export type StoredChainReport =
  | { ok: true; epoch: number; count: number; head: string }
  | { ok: false; epoch: number; count: number; broken: { seq: number; reason: string } }

/** Rows read per query: the walk holds one page in memory, however long the log. */
const page = 5000

export async function verifyStoredChain(orm: CloudOrm, gatewayId: string, epoch: number, headSeq: number, headHash: string): Promise<StoredChainReport> {
  const e = schema.events
  let prev = genesisHash
  let expected = 1
  let count = 0
  for (;;) {
    const rows = await orm
      .select()
      .from(e)
      .where(and(eq(e.gatewayId, gatewayId), eq(e.epoch, epoch), gt(e.seq, expected - 1)))
      .orderBy(asc(e.seq))
      .limit(page)
    for (const row of rows) {
      const broken = (reason: string): StoredChainReport => ({ ok: false, epoch, count, broken: { seq: row.seq, reason } })
      if (row.seq !== expected) return { ok: false, epoch, count, broken: { seq: expected, reason: `seq ${expected} is missing` } }
      if (row.prevHash !== prev) return broken(`prev_hash does not match the hash of seq ${row.seq - 1}`)
      if (eventHash(row) !== row.hash) return broken('the hash does not match the stored event (it was altered)')
      prev = row.hash
      expected += 1
      count += 1
    }
    if (rows.length < page) break
  }
  if (count !== headSeq) return { ok: false, epoch, count, broken: { seq: count + 1, reason: `the gateway's head is seq ${headSeq} but the stored chain ends at ${count}` } }
  if (prev !== headHash) return { ok: false, epoch, count, broken: { seq: count, reason: "the last stored hash is not the gateway's recorded head" } }
  return { ok: true, epoch, count, head: prev }
}
