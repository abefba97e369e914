// Temp directories and child processes the bench made, undone on every way out: normal end, error, Ctrl-C.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

type Undo = () => void | Promise<void>

const undos: Undo[] = []

/** Registers an undo step; returns a function that runs it now (once) and forgets it. */
export function onCleanup(undo: Undo): () => Promise<void> {
  undos.push(undo)
  return async () => {
    const i = undos.indexOf(undo)
    if (i < 0) return
    undos.splice(i, 1)
    await undo()
  }
}

/** A fresh directory under the system temp dir, removed at cleanup. */
export function tempDir(prefix: string): { path: string; remove: () => Promise<void> } {
  const path = mkdtempSync(join(tmpdir(), `takt-bench-${prefix}-`))
  const remove = onCleanup(() => rmSync(path, { recursive: true, force: true }))
  return { path, remove }
}

/** Runs every registered undo step, newest first; errors are reported, not thrown. */
export async function cleanupAll(): Promise<void> {
  while (undos.length > 0) {
    const undo = undos.pop()!
    try {
      await undo()
    } catch (error) {
      process.stderr.write(`bench cleanup: ${(error as Error).message}\n`)
    }
  }
}
