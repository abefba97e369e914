// Worker thread: the historian's one writer — inserts each batch in one transaction (a block per signal, edge/historian/sample-blocks.ts), syncs the WAL, then tells the event loop it is on disk.
//
// Inserting, SQLite's automatic checkpoints and the fdatasync all happen off the event loop, so
// telemetry never holds the loop where operators' transactions are decided. The sync runs on
// libuv's pool while this thread inserts the next batch, so a device's PUBACK waits for one sync
// rather than for a sync and the insert queued behind it. Batches that queue up meanwhile are
// written together: under load the commits grow instead of falling behind.
//
// The thread keeps the event loop's priority. At a lower one (nice 5 was tried) it also yielded
// to every other process on a busy machine, and every PUBACK waits for its commits: devices were
// slower (bench/telemetry.ts) and operators' completions were no faster for it.
import Database from 'better-sqlite3'
import { parentPort, receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads'
import { WalSync } from '../store/wal-sync.ts'
import type { SampleBatch, ToHistorianWriter, WriterData, WriterResult } from './historian.ts'
import { shedOldestRaw } from './retention.ts'
import { blockInserter, encodeBlocks } from './sample-blocks.ts'
import { pageColumns } from './sample-page.ts'

const { file, shared, results } = workerData as WriterData & { results: MessagePort }
const input = parentPort!

const db = new Database(file)
db.pragma('journal_mode = WAL')
db.pragma('synchronous = NORMAL')
// Appends touch only the right edge of the blocks table and of its time-first index: 4 MB of page
// cache hold a full batch, where better-sqlite3's default of 16 MB would only fill with pages never read again.
db.pragma('cache_size = -4000')
// Folding and retention on the event loop's connection take the write lock now and then: wait for it rather than fail a batch.
db.pragma('busy_timeout = 5000')
const wal = new WalSync(`${file}-wal`)
// OR IGNORE: a batch whose sync failed was committed all the same, and its new signals come again with the next batch.
const insertSignal = db.prepare('INSERT OR IGNORE INTO signals (id, name) VALUES (?, ?)')
const insertBlocks = blockInserter(db)

const writeBatches = db.transaction((batches: SampleBatch[]) => {
  for (const b of batches) {
    for (const [id, name] of b.signals) insertSignal.run(id, name)
    insertBlocks(encodeBlocks(pageColumns(b.page), b.rows, b.text))
  }
})

/** What a batch comes to: committed or failed, by its seq. */
type BatchResult = Extract<WriterResult, { seq: number }>

function report(result: BatchResult): void {
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

/** Answers leave in batch order: a commit's answer waits for its sync, a failure's for the answers before it. */
let answered: Promise<void> = Promise.resolve()

/** Writes batches in one transaction; resolves, never rejects, once they are synced or have failed. */
function write(batches: SampleBatch[]): Promise<BatchResult> {
  const seq = batches.at(-1)!.seq
  const failed = (error: unknown): BatchResult => ({ kind: 'failed', seq, error: `could not write ${file}: ${(error as Error).message}` })
  try {
    writeBatches(batches)
  } catch (error) {
    return Promise.resolve(failed(error))
  }
  const rows = batches.reduce((n, b) => n + b.rows, 0)
  // synchronous=NORMAL does not sync inside COMMIT; a sync that starts after this commit closes
  // the power-cut window before the PUBACK. One sync covers every commit before it.
  return wal.afterCommit().then(
    (): BatchResult => {
      Atomics.store(shared, 2, wal.syncs)
      return { kind: 'committed', seq, rows }
    },
    failed,
  )
}

input.on('message', (first: ToHistorianWriter) => {
  const batches: SampleBatch[] = []
  const sheds: Array<{ maxRows: number; now: number }> = []
  let closing = false
  for (let message: ToHistorianWriter | undefined = first; message !== undefined; message = receiveMessageOnPort(input)?.message as ToHistorianWriter | undefined) {
    if (message.kind === 'close') closing = true
    else if (message.kind === 'shed') sheds.push(message)
    else batches.push(message)
  }
  if (batches.length > 0) {
    const outcome = write(batches)
    answered = answered.then(() => outcome).then(report)
  }
  // The disk runs low: the oldest raw samples go, here and not on the event loop.
  for (const shed of sheds) {
    let result: WriterResult
    try {
      result = { kind: 'shed', rows: shedOldestRaw(db, shed.maxRows, shed.now) }
    } catch (error) {
      result = { kind: 'shed-failed', error: `could not shed raw samples of ${file}: ${(error as Error).message}` }
    }
    answered = answered.then(() => results.postMessage(result))
  }
  if (closing) void answered.then(close)
})
