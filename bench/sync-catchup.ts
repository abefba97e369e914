// Issue 7's catch-up benchmark: a gateway's backlog of events pushed into PostgreSQL end to end (HTTP, chain check, central projections), against a raw COPY of the same rows into the same server.
import { spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import pg from 'pg'
import { openLine, recordFiller, recordOrder } from '../cloud-sync/test/line.ts'
import { readEvents } from '../edge/store/event-log.ts'
import { systemClock } from '../edge/store/ids.ts'
import { SyncPusher } from '../edge/sync/pusher.ts'
import { tempDir } from './lib/cleanup.ts'
import { adminToken, freshDatabase, startCloudProcess } from './lib/cloud-process.ts'
import type { BenchResult } from './lib/figures.ts'
import { cpuSince, readCpuTime } from './lib/proc-stats.ts'

const log = (message: string) => process.stdout.write(`  ${message}\n`)

export interface SyncCatchupOptions {
  events: number
  /** Gateways pushing at once in the fan-in phase, and the events each one holds. */
  fanIn: { gateways: number; eventsEach: number }
  /** Events per push, as the gateway's sync.maxBatch. */
  maxBatch: number
}

export const defaultSyncCatchupOptions: SyncCatchupOptions = { events: 1_000_000, maxBatch: 2000, fanIn: { gateways: 50, eventsEach: 10_000 } }

/** The same rows as the central events table, through COPY FROM STDIN (psql), into a table of the same shape in the same server. */
async function rawCopy(databaseUrl: string, csvFile: string): Promise<number> {
  const c = new pg.Client({ connectionString: databaseUrl })
  await c.connect()
  await c.query('CREATE TABLE copy_events (LIKE events INCLUDING ALL)')
  await c.end()
  const started = performance.now()
  await new Promise<void>((resolve, reject) => {
    const psql = spawn('psql', [databaseUrl, '-v', 'ON_ERROR_STOP=1', '-c', `\\copy copy_events (gateway_id, epoch, seq, id, type, subject, data, actor, occurred_at, recorded_at, prev_hash, hash) FROM '${csvFile}' WITH (FORMAT csv)`], { stdio: ['ignore', 'ignore', 'inherit'] })
    psql.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`psql \\copy exited with ${code}`))))
  })
  return performance.now() - started
}

const csvField = (v: string | number) => (typeof v === 'number' ? String(v) : `"${v.replaceAll('"', '""')}"`)

export async function benchSyncCatchup(options: SyncCatchupOptions = defaultSyncCatchupOptions): Promise<BenchResult> {
  const dir = tempDir('takt-bench-sync-').path
  const store = openLine(dir)
  const prepared = performance.now()
  // A line's backlog: orders with their lifecycle among many small definitions, all through the real event log.
  let orders = 0
  while (store.head().seq < options.events) {
    const left = options.events - store.head().seq
    if (left > 4) recordOrder(store, `PO-${++orders}`, 10, { done: orders % 2 === 0 })
    recordFiller(store, Math.min(500, Math.max(1, options.events - store.head().seq)), 500, `M${orders}-`)
  }
  const total = store.head().seq
  log(`backlog: ${total} events (${orders} orders) recorded in ${((performance.now() - prepared) / 1000).toFixed(1)} s (untimed)`)

  const db = await freshDatabase()
  const cloud = await startCloudProcess(db.url, dir)
  const reg = await fetch(`${cloud.url}/api/v1/gateways`, { method: 'POST', headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ id: 'bench-gw', lineId: 'L1' }) })
  const { token } = (await reg.json()) as { token: string }

  const pusher = new SyncPusher(store.db.sqlite, systemClock, { url: cloud.url, token, gatewayId: 'bench-gw', epoch: 1, maxBatch: options.maxBatch, timeoutMs: 60_000, minBackoffMs: 100, maxBackoffMs: 1000, idleMs: 60_000 }, { info() {}, warn: (o, m) => log(`pusher: ${m} ${JSON.stringify(o)}`), error: (o, m) => log(`pusher: ${m} ${JSON.stringify(o)}`) })
  const cloudCpu = readCpuTime(cloud.pid)
  const started = performance.now()
  pusher.start()
  while (pusher.status().ackedSeq !== total) await new Promise((r) => setTimeout(r, 20))
  const seconds = (performance.now() - started) / 1000
  const cpu = cpuSince(cloud.pid, cloudCpu)
  await pusher.stop()
  const rate = total / seconds
  log(`catch-up: ${total} events in ${seconds.toFixed(2)} s = ${rate.toFixed(0)}/s, cloud-sync CPU ${(((cpu.user + cpu.system) / seconds) * 100).toFixed(0)}% of a core`)

  // Verify that the cloud holds the whole chain, then the peer: the same rows by COPY.
  const check = new pg.Client({ connectionString: db.url })
  await check.connect()
  const { rows } = await check.query('SELECT count(*)::int AS n, max(seq)::int AS max FROM events')
  await check.end()
  if (rows[0].n !== total || rows[0].max !== total) throw new Error(`the cloud holds ${rows[0].n} events up to seq ${rows[0].max}, not ${total}`)
  const csvFile = join(dir, 'events.csv')
  const lines: string[] = []
  for (const e of readEvents(store.db.sqlite, 0)) {
    lines.push(['bench-copy', 1, e.seq, e.id, e.type, e.subject, e.data, e.actor, e.occurredAt, e.recordedAt, e.prevHash, e.hash].map(csvField).join(','))
  }
  writeFileSync(csvFile, lines.join('\n') + '\n')
  // The copy table's foreign key would need the gateway row; LIKE does not copy foreign keys.
  const copyMs = await rawCopy(db.url, csvFile)
  const copyRate = total / (copyMs / 1000)
  log(`peer: COPY of the same ${total} rows in ${(copyMs / 1000).toFixed(2)} s = ${copyRate.toFixed(0)}/s`)
  const fan = await fanIn(cloud.url, db.url, dir, options)
  log(`fan-in: ${options.fanIn.gateways} gateways × ${options.fanIn.eventsEach} events at once in ${fan.seconds.toFixed(2)} s = ${fan.rate.toFixed(0)}/s; the first done after ${fan.firstS.toFixed(2)} s, the last after ${fan.seconds.toFixed(2)} s`)
  await cloud.stop()
  store.close()
  await db.drop()
  return {
    title: 'Cloud sync: catch-up of a gateway backlog into PostgreSQL',
    figures: [
      { label: `Catch-up of ${total.toLocaleString('en-US')} events, end to end`, value: rate, unit: 'events/s', digits: 0, target: { kind: 'min', value: 40_000 } },
      { label: 'Raw COPY of the same rows into the same server', value: copyRate, unit: 'rows/s', digits: 0 },
      { label: 'Ratio catch-up ÷ COPY', value: rate / copyRate, unit: '×', digits: 2, target: { kind: 'min', value: 0.25 } },
      { label: `Fan-in: ${options.fanIn.gateways} gateways pushing at once, all events`, value: fan.rate, unit: 'events/s', digits: 0 },
      { label: 'Ratio fan-in ÷ one gateway catching up', value: fan.rate / rate, unit: '×', digits: 2 },
      { label: 'Fan-in: last gateway done ÷ first gateway done', value: fan.seconds / fan.firstS, unit: '×', digits: 2 },
      { label: 'cloud-sync CPU during catch-up', value: ((cpu.user + cpu.system) / seconds) * 100, unit: '% of a core', digits: 0 },
    ],
    notes: [
      `The backlog is recorded through a real gateway event log (orders with their lifecycle among material definitions); the gateway's own pusher (sync.maxBatch ${options.maxBatch}, two pushes on the wire at once) sends it over HTTP to cloud-sync in its own process, which checks every hash and the chain, stores the events and folds the central projections in each batch's transaction, one batch after the other in seq order.`,
      `Fan-in: ${options.fanIn.gateways} gateways, each its own event log of ${options.fanIn.eventsEach} events and its own pusher and token, start pushing at the same moment; the figure is all their events over the time until the last one is acknowledged, and every gateway's central chain head is checked against its own.`,
      'The peer is psql `\\copy` of the same rows (CSV) into a table of the same shape and indexes in the same PostgreSQL server, in the same run.',
    ],
  }
}

/** Many gateways' backlogs pushed at once into the same cloud; every central head is checked. */
async function fanIn(cloudUrl: string, databaseUrl: string, dir: string, options: SyncCatchupOptions): Promise<{ rate: number; seconds: number; firstS: number }> {
  const { gateways, eventsEach } = options.fanIn
  const lines = []
  for (let i = 0; i < gateways; i++) {
    const store = openLine(join(dir, `fan-${i}`))
    recordFiller(store, eventsEach, 500, `G${i}-`)
    const reg = await fetch(`${cloudUrl}/api/v1/gateways`, { method: 'POST', headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ id: `fan-${i}`, lineId: `FL${i}` }) })
    const { token } = (await reg.json()) as { token: string }
    const pusher = new SyncPusher(store.db.sqlite, systemClock, { url: cloudUrl, token, gatewayId: `fan-${i}`, epoch: 1, maxBatch: options.maxBatch, timeoutMs: 120_000, minBackoffMs: 100, maxBackoffMs: 1000, idleMs: 60_000 }, { info() {}, warn: (o, m) => log(`fan-${i}: ${m} ${JSON.stringify(o)}`), error: (o, m) => log(`fan-${i}: ${m} ${JSON.stringify(o)}`) })
    lines.push({ store, pusher, head: store.head(), doneAt: 0 })
  }
  const started = performance.now()
  for (const l of lines) l.pusher.start()
  while (lines.some((l) => l.doneAt === 0)) {
    for (const l of lines) if (l.doneAt === 0 && l.pusher.status().ackedSeq === l.head.seq) l.doneAt = performance.now()
    await new Promise((r) => setTimeout(r, 20))
  }
  const seconds = (Math.max(...lines.map((l) => l.doneAt)) - started) / 1000
  const firstS = (Math.min(...lines.map((l) => l.doneAt)) - started) / 1000
  const c = new pg.Client({ connectionString: databaseUrl })
  await c.connect()
  const { rows } = await c.query("SELECT id, head_seq::int AS seq, head_hash AS hash FROM gateways WHERE id LIKE 'fan-%'")
  await c.end()
  for (const [i, l] of lines.entries()) {
    const row = rows.find((r: { id: string }) => r.id === `fan-${i}`)
    if (row?.seq !== l.head.seq || row?.hash !== l.head.hash) throw new Error(`gateway fan-${i}: the cloud holds head ${row?.seq} ${row?.hash}, the gateway ${l.head.seq} ${l.head.hash}`)
    await l.pusher.stop()
    l.store.close()
  }
  return { rate: (gateways * eventsEach) / seconds, seconds, firstS }
}
