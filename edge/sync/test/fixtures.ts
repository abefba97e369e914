// What the sync suites share: a gateway event log in a temp directory, a pusher on it, and the cloud's stored count of a gateway's events.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { eq, sql } from 'drizzle-orm'
import * as schema from '../../../cloud-sync/schema.ts'
import type { TestDatabase } from '../../../cloud-sync/test/backends.ts'
import { openLine } from '../../../cloud-sync/test/line.ts'
import { systemClock } from '../../store/ids.ts'
import type { LineStore } from '../../store/line-store.ts'
import { SyncPusher, type SyncOptions } from '../pusher.ts'

export const silentLog = { info() {}, warn() {}, error() {} }

/** A line store in its own temp directory, closed and removed at the end of the test. */
export function tempLine(t: { teardown(fn: () => unknown): void }): LineStore {
  const dir = mkdtempSync(join(tmpdir(), 'takt-sync-line-'))
  const store = openLine(dir)
  t.teardown(() => {
    store.close()
    rmSync(dir, { recursive: true, force: true })
  })
  return store
}

/** A pusher of gateway gw-a on `store`, fed by its commits; short timers for tests. */
export function pusherFor(store: LineStore, url: string, token: string, extra: Partial<SyncOptions> = {}): SyncPusher {
  const options: SyncOptions = { url, token, gatewayId: 'gw-a', epoch: 1, maxBatch: 500, timeoutMs: 20_000, minBackoffMs: 20, maxBackoffMs: 200, idleMs: 50, ...extra }
  const pusher = new SyncPusher(store.db.sqlite, systemClock, options, silentLog)
  store.onRecorded(pusher.onRecorded)
  return pusher
}

/** The cloud's rows, distinct seqs and highest seq of one gateway's events. */
export async function storedEvents(test: TestDatabase, gatewayId: string): Promise<{ rows: number; distinct: number; maxSeq: number }> {
  const e = schema.events
  const [r] = await test.db.orm
    .select({ rows: sql<number>`count(*)::int`, distinct: sql<number>`count(distinct ${e.seq})::int`, maxSeq: sql<number>`coalesce(max(${e.seq}), 0)::int` })
    .from(e)
    .where(eq(e.gatewayId, gatewayId))
  return r!
}
