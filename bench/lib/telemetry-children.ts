// The telemetry bench's helper processes (publisher, subscriber, Mosquitto, Node-RED): spawned, read line by line, stopped at cleanup; and row counts read from a store's file.
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import Database from 'better-sqlite3'
import { onCleanup } from './cleanup.ts'
import { projectRoot } from './gateway-process.ts'

export interface Child {
  pid: number
  /** The first JSON line on stdout, seen so far or to come, for which `accept` is true. */
  line<T>(accept: (value: Record<string, unknown>) => boolean, timeoutMs: number): Promise<T>
  /** The first line of output that is not JSON and matches `pattern`. */
  text(pattern: RegExp, timeoutMs: number): Promise<string>
  /** Output lines that were not JSON, the last 40. */
  tail(): string[]
  exited: Promise<number | null>
  stop(): Promise<void>
}

interface Output {
  json?: Record<string, unknown>
  text: string
}

/** Splits a stream into lines, handing on whole lines only. */
function byLine(stream: NodeJS.ReadableStream, take: (line: string) => void): void {
  let pending = ''
  stream.setEncoding('utf8')
  stream.on('data', (chunk: string) => {
    const lines = (pending + chunk).split('\n')
    pending = lines.pop() ?? ''
    for (const l of lines) if (l.trim() !== '') take(l)
  })
}

export function spawnChild(name: string, command: string, args: string[], options: { env?: NodeJS.ProcessEnv; echoStdout?: boolean } = {}): Child {
  const child = spawn(command, args, { cwd: projectRoot, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] })
  const seen: Output[] = []
  const waiters: Array<() => void> = []
  const tail: string[] = []
  const take = (text: string, isStdout: boolean) => {
    let json: Record<string, unknown> | undefined
    if (isStdout && text.startsWith('{')) {
      try {
        json = JSON.parse(text) as Record<string, unknown>
      } catch {
        // not a JSON line after all: kept as text
      }
    }
    seen.push(json ? { json, text } : { text })
    for (const wake of waiters.splice(0)) wake()
    if (json) return
    tail.push(text)
    if (tail.length > 40) tail.shift()
    if (!isStdout || options.echoStdout) process.stderr.write(`  [${name}] ${text}\n`)
  }
  byLine(child.stdout, (l) => take(l, true))
  byLine(child.stderr, (l) => take(l, false))
  let exitCode: number | null | undefined
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      exitCode = code
      for (const wake of waiters.splice(0)) wake()
      resolve(code)
    }),
  )
  const stop = onCleanup(async () => {
    if (exitCode !== undefined) return
    child.kill('SIGTERM')
    const killer = setTimeout(() => child.kill('SIGKILL'), 5_000)
    await exited
    clearTimeout(killer)
  })
  const wait = async (accept: (o: Output) => boolean, what: string, timeoutMs: number): Promise<Output> => {
    const deadline = Date.now() + timeoutMs
    let checked = 0
    for (;;) {
      for (; checked < seen.length; checked++) if (accept(seen[checked]!)) return seen[checked]!
      if (exitCode !== undefined) throw new Error(`${name} exited with code ${exitCode} while waiting for ${what}:\n${tail.join('\n')}`)
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`${name}: no ${what} within ${timeoutMs} ms:\n${tail.join('\n')}`)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left)
        waiters.push(() => (clearTimeout(timer), resolve()))
      })
    }
  }
  return {
    pid: child.pid!,
    line: async <T>(accept: (value: Record<string, unknown>) => boolean, timeoutMs: number) => (await wait((o) => o.json !== undefined && accept(o.json), 'awaited line', timeoutMs)).json as T,
    text: async (pattern: RegExp, timeoutMs: number) => (await wait((o) => o.json === undefined && pattern.test(o.text), `line like ${pattern}`, timeoutMs)).text,
    tail: () => [...tail],
    exited,
    stop,
  }
}

/** Runs a TypeScript program of the bench in its own Node process with a JSON argument. */
export function spawnNodeScript(name: string, script: string, argument: unknown): Child {
  return spawnChild(name, process.execPath, [script, JSON.stringify(argument)])
}

export interface RowsReached {
  /** Wall-clock Unix ms at which the count was first seen at or above the aim. */
  at: number
  rows: number
}

/** How a store's samples are counted while it is being written: cheap enough to ask every few milliseconds. */
export interface SampleCount {
  what: string
  /** Prepares the count on a connection; each call of the result counts again. */
  reader(db: Database.Database): () => number
}

/** A row per sample in an append-only table (the Node-RED flow's): max(rowid), an index seek. */
export const rowsOf = (table: string): SampleCount => ({
  what: `rows in ${table}`,
  reader: (db) => {
    const max = db.prepare(`SELECT coalesce(max(rowid), 0) FROM ${table}`).pluck()
    return () => max.get() as number
  },
})

/** The gateway's historian, a block of samples per row (edge/historian/sample-blocks.ts): the counts of the blocks added since the last look, summed. */
export const historianSamples: SampleCount = {
  what: 'samples in the historian',
  reader: (db) => {
    const added = db.prepare('SELECT coalesce(sum(count), 0) AS n, coalesce(max(id), ?) AS id FROM blocks WHERE id > ?')
    let last = 0
    let sum = 0
    return () => {
      const r = added.get(last, last) as { n: number; id: number }
      sum += r.n
      last = r.id
      return sum
    }
  },
}

/**
 * Polls a SQLite file, on its own read-only connection, until it holds `rows` samples; the time
 * is when the poll saw them (so at most `pollMs` late).
 */
export async function waitForRows(file: string, counted: SampleCount, rows: number, timeoutMs: number, pollMs = 5): Promise<RowsReached> {
  const deadline = Date.now() + timeoutMs
  while (!existsSync(file)) {
    if (Date.now() > deadline) throw new Error(`${file} was not created within ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, pollMs))
  }
  const db = new Database(file, { readonly: true, fileMustExist: true })
  try {
    let count: (() => number) | undefined
    for (;;) {
      let n = 0
      try {
        count ??= counted.reader(db)
        n = count()
      } catch (error) {
        // The writer may not have created the table yet.
        if (!/no such table/.test((error as Error).message)) throw error
      }
      if (n >= rows) return { at: performance.timeOrigin + performance.now(), rows: n }
      if (Date.now() > deadline) throw new Error(`${file}: ${n} ${counted.what} after ${timeoutMs} ms, waiting for ${rows}`)
      await new Promise((r) => setTimeout(r, pollMs))
    }
  } finally {
    db.close()
  }
}

/** The count at the end of a run. */
export function countRows(file: string, counted: SampleCount): number {
  const db = new Database(file, { readonly: true, fileMustExist: true })
  try {
    return counted.reader(db)()
  } finally {
    db.close()
  }
}
