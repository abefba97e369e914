// Worker thread: moves the MES database's WAL into the main file on its own connection, off the event loop.
import Database from 'better-sqlite3'
import { parentPort, workerData } from 'node:worker_threads'

const { file, intervalMs } = workerData as { file: string; intervalMs: number }
const db = new Database(file)
db.pragma('busy_timeout = 1000')
db.pragma('synchronous = FULL')
// PASSIVE never blocks the writer; what it cannot copy now it copies next time.
const checkpoint = () => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)')
  } catch (error) {
    parentPort?.postMessage({ error: (error as Error).message })
  }
}
const timer = setInterval(checkpoint, intervalMs)
parentPort?.on('message', (message: unknown) => {
  if (message === 'stop') {
    clearInterval(timer)
    db.close()
    parentPort?.close()
  }
})
