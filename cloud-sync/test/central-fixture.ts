// Two real gateway logs on two lines, pushed into a central database: the scenario the central views' tests and the dashboard's browser test share.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { StoredEvent } from '../../edge/store/event-log.ts'
import type { LineStore } from '../../edge/store/line-store.ts'
import { buildCloudApi } from '../app.ts'
import { ensureAdminToken } from '../credentials.ts'
import type { TestDatabase } from './backends.ts'
import { logOf, openLineAt, recordCompletion, recordConsumption, recordCount, recordOrderAt, recordOutputLot, recordStart, recordState, setClock, type SetClock } from './line.ts'

export const adminToken = 'central-test-admin-token-0123456789'

export interface Answer {
  status: number
  headers: Headers
  body: Record<string, any>
}

export interface CentralFixture {
  test: TestDatabase
  app: ReturnType<typeof buildCloudApi>
  call(path: string, token?: string | null, method?: string, body?: unknown): Promise<Answer>
  register(id: string, lineId: string): Promise<string>
  /** Pushes the line's log after `afterSeq` in pushes of `perPush` events, as the pusher would. */
  pushAll(gatewayId: string, token: string, line: LineStore, perPush?: number, afterSeq?: number): Promise<void>
  lines: { l1: LineStore; l2: LineStore; clock1: SetClock; clock2: SetClock }
  tokens: Record<string, string>
}

export async function centralFixture(t: { teardown(fn: () => unknown): void }, open: () => Promise<TestDatabase>): Promise<CentralFixture> {
  const test = await open()
  await ensureAdminToken(test.db.orm, adminToken)
  const app = buildCloudApi(test.db, { version: 'test' })
  const dirs = [mkdtempSync(join(tmpdir(), 'takt-central-l1-')), mkdtempSync(join(tmpdir(), 'takt-central-l2-'))]
  const clock1 = setClock('2026-03-02T05:00:00Z')
  const clock2 = setClock('2026-03-02T05:00:00Z')
  const l1 = openLineAt(dirs[0]!, clock1)
  const l2 = openLineAt(dirs[1]!, clock2)
  t.teardown(async () => {
    l1.close()
    l2.close()
    for (const d of dirs) rmSync(d, { recursive: true, force: true })
    await test.dispose()
  })
  const call: CentralFixture['call'] = async (path, token = adminToken, method = 'GET', body) => {
    const headers: Record<string, string> = {}
    if (token) headers.authorization = `Bearer ${token}`
    if (body !== undefined) headers['content-type'] = 'application/json'
    const res = await app.request(path, { method, headers, body: body === undefined ? null : JSON.stringify(body) })
    const text = await res.text()
    let parsed: Record<string, any> = {}
    try {
      parsed = text ? JSON.parse(text) : {}
    } catch {
      parsed = { text }
    }
    return { status: res.status, headers: res.headers, body: parsed }
  }
  const tokens: Record<string, string> = {}
  const register = async (id: string, lineId: string) => {
    const r = await call('/api/v1/gateways', adminToken, 'POST', { id, lineId })
    if (r.status !== 201) throw new Error(`register ${id}: ${r.status} ${JSON.stringify(r.body)}`)
    tokens[id] = r.body.token
    return r.body.token as string
  }
  const pushAll: CentralFixture['pushAll'] = async (gatewayId, token, line, perPush = 2000, afterSeq = 0) => {
    const log: StoredEvent[] = logOf(line, afterSeq)
    for (let i = 0; i < log.length; i += perPush) {
      const r = await call(`/api/v1/gateways/${gatewayId}/events`, token, 'POST', { epoch: 1, events: log.slice(i, i + perPush) })
      if (r.status !== 200) throw new Error(`push ${gatewayId}: ${r.status} ${JSON.stringify(r.body)}`)
    }
  }
  return { test, app, call, register, pushAll, lines: { l1, l2, clock1, clock2 }, tokens }
}

/**
 * Line L1 (gateway gw-1) fills paste at L1-FILL from resin lot RESIN-7 into lot PO-A-OUT; line L2
 * (gw-2) packs PO-A-OUT into units SN-1 and SN-2 at L2-PACK. Between 06:00 and 07:00:
 * L1-FILL runs except 06:40–06:50 (down), the machine counts 150 + 10 rejects and 40 (ideal 10 s);
 * L2-PACK runs except a 1-minute small stop at 06:15, the operator completes 150 good + 5 scrap and
 * then unit SN-1 (ideal 20 s), with no machine counting. The times are those of 2 March 2026 unless
 * `sixOClock` moves them.
 */
export function recordTwoLines(f: CentralFixture, sixOClock = '2026-03-02T06:00:00Z'): void {
  const { l1, l2 } = f.lines
  const base = Date.parse(sixOClock)
  // The scenario's clock times, moved to start at `sixOClock` (a browser test records them in the last hours).
  const clockAt = (clock: SetClock) => ({ set: (hhmm: string) => clock.set(new Date(base + (Date.parse(`2026-03-02T${hhmm}:00Z`) - Date.parse('2026-03-02T06:00:00Z'))).toISOString()) })
  const c1 = clockAt(f.lines.clock1)
  const c2 = clockAt(f.lines.clock2)
  c1.set('05:50')
  recordOrderAt(l1, 'PO-A', 200, { lineId: 'L1', workCenterId: 'L1-FILL', idealCycleTimeS: 10, outputLot: 'PO-A-OUT' })
  c1.set('06:00')
  recordState(l1, 'L1-FILL', 'running')
  recordStart(l1, 'R-A', 'PO-A', 'L1-FILL')
  c1.set('06:05')
  recordConsumption(l1, 'R-A', 'PO-A', { kind: 'lot', id: 'PO-A-OUT' }, { kind: 'lot', id: 'RESIN-7' }, 'RESIN', 25)
  c1.set('06:30')
  recordCount(l1, 'L1-FILL', 'R-A', 'PO-A', 150, 10)
  c1.set('06:40')
  recordState(l1, 'L1-FILL', 'down', 3)
  c1.set('06:50')
  recordState(l1, 'L1-FILL', 'running')
  c1.set('06:59')
  recordCount(l1, 'L1-FILL', 'R-A', 'PO-A', 40, 0)
  c1.set('07:00')
  recordState(l1, 'L1-FILL', 'idle')
  recordOutputLot(l1, 'PO-A-OUT', 'PO-A', 'PASTE', 190)

  c2.set('05:55')
  recordOrderAt(l2, 'PO-B', 160, { lineId: 'L2', workCenterId: 'L2-PACK', idealCycleTimeS: 20, serials: ['SN-1', 'SN-2'], outputLot: 'PO-B-OUT' })
  c2.set('06:00')
  recordState(l2, 'L2-PACK', 'running')
  recordStart(l2, 'R-B', 'PO-B', 'L2-PACK')
  c2.set('06:15')
  recordState(l2, 'L2-PACK', 'down')
  c2.set('06:16')
  recordState(l2, 'L2-PACK', 'running')
  c2.set('06:20')
  recordStart(l2, 'R-SN1', 'PO-B', 'L2-PACK', 'SN-1')
  recordConsumption(l2, 'R-SN1', 'PO-B', { kind: 'unit', id: 'SN-1' }, { kind: 'lot', id: 'PO-A-OUT' }, 'PASTE', 2)
  c2.set('06:25')
  recordStart(l2, 'R-SN2', 'PO-B', 'L2-PACK', 'SN-2')
  recordConsumption(l2, 'R-SN2', 'PO-B', { kind: 'unit', id: 'SN-2' }, { kind: 'lot', id: 'PO-A-OUT' }, 'PASTE', 2)
  c2.set('06:45')
  recordCompletion(l2, 'R-B', 'PO-B', 150, 5)
  c2.set('06:50')
  recordCompletion(l2, 'R-SN1', 'PO-B', 1, 0, 'SN-1')
  c2.set('07:00')
  recordState(l2, 'L2-PACK', 'idle')
}
