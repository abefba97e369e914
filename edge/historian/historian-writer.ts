// Worker thread: the historian's one writer — inserts each batch in one transaction, syncs the WAL, then tells the event loop it is on disk.
//
// Inserting, SQLite's automatic checkpoints and the fdatasync all happen here, so telemetry never
// holds the gateway's event loop, where operators' transactions are decided. Batches that queue
// up while a commit or sync is under way are written together: under load the commits grow
// instead of falling behind.
import Database from 'better-sqlite3'
import { readlinkSync } from 'node:fs'
import { setPriority } from 'node:os'
import { parentPort, receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads'
import { WalSync } from '../store/wal-sync.ts'
import type { SampleBatch, ToHistorianWriter, WriterData, WriterResult } from './historian.ts'
import { pageColumns, type PageColumns } from './sample-page.ts'

/** Nice value of the writer thread: 5 gives it about a third of the CPU share of the event loop's under contention. */
const writerNiceness = 5

const { file, shared, results } = workerData as WriterData & { results: MessagePort }
const input = parentPort!

// When the cores are all busy, the event loop (operators' transactions) goes first and telemetry
// waits: this thread runs at a lower priority. Its PUBACKs then come later and devices slow down.
// On Linux a thread's id works as a pid for setpriority; elsewhere the thread keeps its priority.
try {
  const tid = Number(readlinkSync('/proc/thread-self').split('/').pop())
  if (Number.isInteger(tid) && tid > 0) setPriority(tid, writerNiceness)
} catch {
  // no /proc (not Linux) or not allowed: same priority as the event loop
}
const db = new Database(file)
db.pragma('journal_mode = WAL')
db.pragma('synchronous = NORMAL')
const wal = new WalSync(`${file}-wal`)
const insertSignal = db.prepare('INSERT INTO signals (id, name) VALUES (?, ?)')
// One statement per row spends as long in the call as in SQLite; 64 rows a statement halve the cost per row.
const rowsPerInsert = 64
const insertSample = db.prepare('INSERT INTO samples (ts, signal_id, value, text, quality) VALUES (?, ?, ?, ?, ?)')
const insertSamples = db.prepare(`INSERT INTO samples (ts, signal_id, value, text, quality) VALUES ${Array(rowsPerInsert).fill('(?, ?, ?, ?, ?)').join(', ')}`)
const args: Array<number | string | null> = new Array(rowsPerInsert * 5)

/** Binds row i of a batch at `at` in `into`. */
function bindRow(into: Array<number | string | null>, at: number, c: PageColumns, text: SampleBatch['text'], i: number): void {
  // NaN stands for "no value" in the page; SQLite would store a NaN as NULL anyway.
  const v = c.value[i]!
  into[at] = c.ts[i]!
  into[at + 1] = c.signal[i]!
  into[at + 2] = Number.isNaN(v) ? null : v
  into[at + 3] = text === null ? null : (text[i] ?? null)
  into[at + 4] = c.quality[i]!
}

const one: Array<number | string | null> = new Array(5)

const writeBatches = db.transaction((batches: SampleBatch[]) => {
  for (const b of batches) {
    for (const [id, name] of b.signals) insertSignal.run(id, name)
    const columns = pageColumns(b.page)
    let i = 0
    for (; i + rowsPerInsert <= b.rows; i += rowsPerInsert) {
      for (let j = 0; j < rowsPerInsert; j++) bindRow(args, j * 5, columns, b.text, i + j)
      insertSamples.run(args)
    }
    for (; i < b.rows; i++) {
      bindRow(one, 0, columns, b.text, i)
      insertSample.run(one)
    }
  }
})

function report(result: WriterResult): void {
  // The answer is queued before the shared word moves: a synchronous flush() woken by it finds the answer waiting.
  results.postMessage(result)
  Atomics.store(shared, 0, result.seq)
  Atomics.notify(shared, 0)
}

function close(): void {
  wal.close()
  db.close()
  Atomics.store(shared, 1, 1)
  Atomics.notify(shared, 1)
  results.close()
  input.close()
}

input.on('message', (first: ToHistorianWriter) => {
  const batches: SampleBatch[] = []
  let closing = false
  for (let message: ToHistorianWriter | undefined = first; message !== undefined; message = receiveMessageOnPort(input)?.message as ToHistorianWriter | undefined) {
    if (message.kind === 'close') closing = true
    else batches.push(message)
  }
  if (batches.length > 0) {
    const seq = batches.at(-1)!.seq
    try {
      writeBatches(batches)
      // synchronous=NORMAL does not sync inside COMMIT; syncing here closes the power-cut window before the PUBACK.
      wal.syncNow()
      Atomics.store(shared, 2, wal.syncs)
      report({ kind: 'committed', seq, rows: batches.reduce((n, b) => n + b.rows, 0) })
    } catch (error) {
      report({ kind: 'failed', seq, error: `could not write ${file}: ${(error as Error).message}` })
    }
  }
  if (closing) close()
})
