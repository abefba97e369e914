// Worker thread: copies the MES database's WAL into the main file on its own connection, so the fsync never blocks the event loop.
import Database from 'better-sqlite3'
import { parentPort, workerData } from 'node:worker_threads'
import type { CheckpointReport, CheckpointWorkerData, ToCheckpointWorker } from './checkpointer.ts'

const { file, idleMs, busyMs, walFramesLimit, retryMs, closed } = workerData as CheckpointWorkerData
const port = parentPort!
const db = new Database(file)
// A checkpoint syncs the database file before the WAL may be reused: keep it FULL like the writer.
db.pragma('synchronous = FULL')

let timer: NodeJS.Timeout | undefined
let lastLog = -1
/** When the writer was last asked to pause; it is not asked again until the WAL is short or `retryMs` passed. */
let askedAt = 0

function checkpoint(): CheckpointReport {
  try {
    // PASSIVE never takes the writer's lock: what it cannot copy now it copies at the next pass.
    const [row] = db.pragma('wal_checkpoint(PASSIVE)') as Array<{ busy: number; log: number; checkpointed: number }>
    return { log: row!.log, checkpointed: row!.checkpointed }
  } catch (error) {
    return { log: lastLog, checkpointed: -1, error: (error as Error).message }
  }
}

function pass(): void {
  clearTimeout(timer)
  const report = checkpoint()
  port.postMessage({ kind: 'report', report })
  if (report.log <= walFramesLimit) askedAt = 0
  else if (askedAt === 0 || Date.now() - askedAt > retryMs) {
    // SQLite restarts the WAL only at a commit that finds it wholly copied, which under sustained
    // writes never happens: ask the writer to hold its commits for one complete pass.
    askedAt = Date.now()
    port.postMessage({ kind: 'pause' })
  }
  // While the writer is busy, follow closely so that little is left to copy when it has to wait.
  const busy = report.log !== lastLog && report.log > 0
  lastLog = report.log
  timer = setTimeout(pass, busy ? busyMs : idleMs)
}

port.on('message', (message: ToCheckpointWorker) => {
  if (message === 'paused') {
    // No commit runs until the answer: this pass copies everything, and the next commit restarts the WAL.
    clearTimeout(timer)
    const report = checkpoint()
    port.postMessage({ kind: 'resume', report })
    lastLog = report.log
    timer = setTimeout(pass, busyMs)
  } else {
    clearTimeout(timer)
    db.close()
    Atomics.store(closed, 0, 1)
    Atomics.notify(closed, 0)
    port.close()
  }
})
pass()
