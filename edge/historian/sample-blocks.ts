// How raw samples lie in historian.db: one row per signal per batch — a block — its samples as columns in blobs.
//
// A row per sample cost the writer thread a B-tree insert into the table and one into its time
// index for every sample (about 1.5 µs each, most of the writer's time under load). A block costs
// that once for all the samples one batch carries for a signal; under load a batch carries
// hundreds per signal. The columns are little-endian typed arrays (the byte order of both
// supported machines, x86-64 and ARM64): float64 timestamps (Unix ms) and values (NaN: no numeric
// value), a byte of quality each, and the text values as a JSON array only when there are any.
import type Database from 'better-sqlite3'
import { pageColumns, SamplePage, type PageColumns } from './sample-page.ts'

export const blockSchema = `
  CREATE TABLE IF NOT EXISTS blocks (
    id INTEGER PRIMARY KEY,
    signal_id INTEGER NOT NULL,
    first_ts INTEGER NOT NULL,
    last_ts INTEGER NOT NULL,
    count INTEGER NOT NULL,
    ts BLOB NOT NULL,
    value BLOB NOT NULL,
    quality BLOB NOT NULL,
    text TEXT
  );
  -- Time first, so that a new block lands at the end of the index (with many slow signals, a
  -- signal-first index cost each insert a descent to a page of its own). A block spans less than
  -- maxBlockSpanMs, so a range [from, to) is in blocks with last_ts in [from, to + maxBlockSpanMs).
  CREATE INDEX IF NOT EXISTS blocks_time ON blocks (last_ts, signal_id);
`

/** A block's samples lie within this much time of its newest: samples further apart (a device's stored-and-forwarded backlog) go in blocks of their own. */
export const maxBlockSpanMs = 3_600_000

/** A block as it is inserted. */
export interface EncodedBlock {
  signal: number
  firstTs: number
  lastTs: number
  count: number
  ts: Buffer
  value: Buffer
  quality: Buffer
  text: string | null
}

/** A block row as it is read (the blobs as SQLite returns them). */
export interface BlockRow {
  id: number
  signal_id: number
  count: number
  ts: Buffer
  value: Buffer
  quality: Buffer
  text: string | null
}

export interface DecodedBlock {
  ts: Float64Array
  value: Float64Array
  quality: Uint8Array
  /** Text values by position, or null when the block has none. */
  text: Array<string | null> | null
}

/** The columns a block row is read with. */
export const blockColumns = 'id, signal_id, count, ts, value, quality, text'

const bytes = (a: Float64Array | Uint8Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength)

/** The earliest and latest of some timestamps. */
function span(ts: Float64Array): { firstTs: number; lastTs: number } {
  let firstTs = Number.POSITIVE_INFINITY
  let lastTs = Number.NEGATIVE_INFINITY
  for (const t of ts) {
    if (t < firstTs) firstTs = t
    if (t > lastTs) lastTs = t
  }
  return { firstTs, lastTs }
}

/** A block's columns as they are stored; the text values only when there are any. */
function encode(ts: Float64Array, value: Float64Array, quality: Uint8Array, text: Array<string | null> | null): Omit<EncodedBlock, 'signal'> {
  return {
    ...span(ts),
    count: ts.length,
    ts: bytes(ts),
    value: bytes(value),
    quality: bytes(quality),
    text: text !== null && text.some((v) => v !== null) ? JSON.stringify(text) : null,
  }
}

/** The blocks of a batch: its rows grouped by signal, in the order they came. */
export function encodeBlocks(c: PageColumns, rows: number, text: Array<string | null> | null): EncodedBlock[] {
  // Counting sort by signal (ids are small integers handed out in order): one pass counts, one places.
  let maxSignal = 0
  for (let i = 0; i < rows; i++) if (c.signal[i]! > maxSignal) maxSignal = c.signal[i]!
  const next = new Int32Array(maxSignal + 2)
  for (let i = 0; i < rows; i++) next[c.signal[i]! + 1]! += 1
  const signals: number[] = []
  for (let id = 0; id <= maxSignal; id++) {
    if (next[id + 1]! > 0) signals.push(id)
    next[id + 1]! += next[id]!
  }
  const start = next.slice(0, maxSignal + 1)
  const ts = new Float64Array(rows)
  const value = new Float64Array(rows)
  const quality = new Uint8Array(rows)
  const texts: Array<string | null> | null = text === null ? null : new Array(rows).fill(null)
  for (let i = 0; i < rows; i++) {
    const j = next[c.signal[i]!]!++
    ts[j] = c.ts[i]!
    value[j] = c.value[i]!
    quality[j] = c.quality[i]!
    if (texts !== null) texts[j] = text![i] ?? null
  }
  const blocks: EncodedBlock[] = []
  for (const signal of signals) {
    const from = start[signal]!
    const to = next[signal]!
    const group: DecodedBlock = { ts: ts.subarray(from, to), value: value.subarray(from, to), quality: quality.subarray(from, to), text: texts?.slice(from, to) ?? null }
    const block = { signal, ...encode(group.ts, group.value, group.quality, group.text) }
    if (block.lastTs - block.firstTs < maxBlockSpanMs) {
      blocks.push(block)
      continue
    }
    // Rare: samples hours apart in one batch. A block per hour they fall in.
    const byHour = new Map<number, number[]>()
    for (let k = 0; k < group.ts.length; k++) {
      const hour = Math.floor(group.ts[k]! / maxBlockSpanMs)
      const positions = byHour.get(hour)
      if (positions === undefined) byHour.set(hour, [k])
      else positions.push(k)
    }
    for (const keep of byHour.values()) blocks.push({ signal, ...subBlock(group, keep) })
  }
  return blocks
}

/** A float64 column of a blob; copied only when SQLite's buffer is not 8-byte aligned. */
function float64s(blob: Buffer, count: number): Float64Array {
  if (blob.byteLength !== count * 8) throw new Error(`a sample block's column holds ${blob.byteLength} bytes, not ${count * 8}`)
  if (blob.byteOffset % 8 === 0) return new Float64Array(blob.buffer, blob.byteOffset, count)
  return new Float64Array(new Uint8Array(blob).buffer, 0, count)
}

export function decodeBlock(row: Pick<BlockRow, 'count' | 'ts' | 'value' | 'quality' | 'text'>): DecodedBlock {
  return {
    ts: float64s(row.ts, row.count),
    value: float64s(row.value, row.count),
    quality: new Uint8Array(row.quality.buffer, row.quality.byteOffset, row.count),
    text: row.text === null ? null : (JSON.parse(row.text) as Array<string | null>),
  }
}

/** Re-encodes the samples of a decoded block at `keep` (positions), for a block that loses some of its samples. */
function subBlock(block: DecodedBlock, keep: number[]): Omit<EncodedBlock, 'signal'> {
  return encode(
    Float64Array.from(keep, (k) => block.ts[k]!),
    Float64Array.from(keep, (k) => block.value[k]!),
    Uint8Array.from(keep, (k) => block.quality[k]!),
    block.text === null ? null : keep.map((k) => block.text![k] ?? null),
  )
}

/** Inserts encoded blocks on a connection: the writer's batches, and a converted file's rows. */
export function blockInserter(db: Database.Database): (blocks: EncodedBlock[]) => void {
  const insert = db.prepare('INSERT INTO blocks (signal_id, first_ts, last_ts, count, ts, value, quality, text) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
  return (blocks) => {
    for (const k of blocks) insert.run(k.signal, k.firstTs, k.lastTs, k.count, k.ts, k.value, k.quality, k.text)
  }
}

/** Raw samples stored, all signals or one (by name): for tests, benchmarks and health. */
export function storedSampleCount(db: Database.Database, signal?: string): number {
  if (signal === undefined) return db.prepare('SELECT coalesce(sum(count), 0) FROM blocks').pluck().get() as number
  return db.prepare('SELECT coalesce(sum(b.count), 0) FROM blocks b JOIN signals g ON g.id = b.signal_id WHERE g.name = ?').pluck().get(signal) as number
}

/** Every stored value of one signal (text or number, NaN as null), in storage order: for tests that read the file themselves. */
export function storedValues(db: Database.Database, signal: string): Array<number | string | null> {
  const rows = db.prepare('SELECT b.count, b.ts, b.value, b.quality, b.text FROM blocks b JOIN signals g ON g.id = b.signal_id WHERE g.name = ? ORDER BY b.id').all(signal) as BlockRow[]
  const values: Array<number | string | null> = []
  for (const row of rows) {
    const b = decodeBlock(row)
    for (let i = 0; i < row.count; i++) values.push(sampleAt(b, i).value)
  }
  return values
}

/** One stored sample as the historian reads it back. */
export interface StoredSample {
  ts: number
  /** The text value, else the number, else null. */
  value: number | string | null
  quality: number
}

function sampleAt(b: DecodedBlock, i: number): StoredSample {
  const v = b.value[i]!
  return { ts: b.ts[i]!, value: b.text?.[i] ?? (Number.isNaN(v) ? null : v), quality: b.quality[i]! }
}

/**
 * A signal's samples in [from, to), oldest first (equal times in the order they were stored), at
 * most `limit`: while more than twice the limit are held, the newest beyond it are let go, so a
 * long range costs memory for the limit only.
 */
export function samplesInRange(db: Database.Database, signalId: number, from: number, to: number, limit: number): StoredSample[] {
  let kept: StoredSample[] = []
  let cutoff = to
  const byTime = (a: StoredSample, b: StoredSample) => a.ts - b.ts
  const rows = db.prepare('SELECT count, ts, value, quality, text FROM blocks WHERE last_ts >= ? AND last_ts < ? AND signal_id = ? AND first_ts < ? ORDER BY last_ts')
  for (const row of rows.iterate(from, to + maxBlockSpanMs, signalId, to) as IterableIterator<BlockRow>) {
    const b = decodeBlock(row)
    for (let i = 0; i < row.count; i++) {
      const t = b.ts[i]!
      if (t >= from && t < cutoff) kept.push(sampleAt(b, i))
    }
    if (kept.length > 2 * limit) {
      kept = kept.sort(byTime).slice(0, limit)
      cutoff = kept.at(-1)!.ts + 1
    }
  }
  return kept.sort(byTime).slice(0, limit)
}

/** Keeps only the samples of a stored block at `keep` (positions); the block goes when none are kept. */
export function keepOfBlock(db: Database.Database, row: BlockRow, block: DecodedBlock, keep: number[]): void {
  if (keep.length === 0) {
    db.prepare('DELETE FROM blocks WHERE id = ?').run(row.id)
    return
  }
  const k = subBlock(block, keep)
  db.prepare('UPDATE blocks SET first_ts = ?, last_ts = ?, count = ?, ts = ?, value = ?, quality = ?, text = ? WHERE id = ?').run(k.firstTs, k.lastTs, k.count, k.ts, k.value, k.quality, k.text, row.id)
}

/** Deletes every raw sample older than `cutoff`: whole blocks, and the older part of a block that spans it. Returns samples deleted. */
export function deleteBefore(db: Database.Database, cutoff: number): number {
  let deleted = 0
  db.transaction(() => {
    deleted += db.prepare('SELECT coalesce(sum(count), 0) FROM blocks WHERE last_ts < ?').pluck().get(cutoff) as number
    db.prepare('DELETE FROM blocks WHERE last_ts < ?').run(cutoff)
    // Blocks that span the cutoff keep their newer samples.
    const spanning = db.prepare(`SELECT ${blockColumns} FROM blocks WHERE last_ts >= ? AND last_ts < ? AND first_ts < ?`).all(cutoff, cutoff + maxBlockSpanMs, cutoff) as BlockRow[]
    for (const row of spanning) {
      const b = decodeBlock(row)
      const keep: number[] = []
      for (let i = 0; i < row.count; i++) if (b.ts[i]! >= cutoff) keep.push(i)
      deleted += row.count - keep.length
      keepOfBlock(db, row, b, keep)
    }
  }).immediate()
  return deleted
}

/**
 * Converts a historian file of an earlier version, one row per sample in a `samples` table, into
 * blocks, 50,000 rows a transaction, and drops the old table. Returns the samples converted.
 */
export function convertSampleRows(db: Database.Database): number {
  if (db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'samples'`).get() === undefined) return 0
  const chunk = 50_000
  const read = db.prepare('SELECT rowid AS id, ts, signal_id, value, text, quality FROM samples WHERE rowid > ? ORDER BY rowid LIMIT ?')
  const insert = blockInserter(db)
  let last = 0
  let converted = 0
  for (;;) {
    const rows = read.all(last, chunk) as Array<{ id: number; ts: number; signal_id: number; value: number | null; text: string | null; quality: number }>
    if (rows.length === 0) break
    const page = new SamplePage(rows.length)
    for (const r of rows) page.push(r.ts, r.signal_id, r.text ?? r.value, r.quality)
    const upTo = rows.at(-1)!.id
    db.transaction(() => {
      insert(encodeBlocks(pageColumns(page.memory), page.length, page.text))
      db.prepare('DELETE FROM samples WHERE rowid <= ?').run(upTo)
    })()
    last = upTo
    converted += rows.length
  }
  db.exec('DROP TABLE samples')
  return converted
}
