// Online backups of a gateway's databases (the MES database and the historian), verified before they count, and their restore.
import Database from 'better-sqlite3'
import { existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { verifyAudit } from './audit-verify.ts'
import { migrationsFolder } from './database.ts'
import { newerSchemaMessage, schemaState } from './schema-state.ts'

export const mesFileName = 'takt.db'
export const historianFileName = 'historian.db'

export type Which = 'mes' | 'historian'
export interface BackupProgress {
  database: Which
  totalPages: number
  remainingPages: number
}
export type OnProgress = (progress: BackupProgress) => void

/** The historian's copy sits beside the MES backup: `takt-….db` and `takt-….historian.db`. */
export function historianBackupOf(file: string): string {
  return file.endsWith('.db') ? `${file.slice(0, -3)}.historian.db` : `${file}.historian`
}

/** Pages copied per step while nothing else writes: small steps keep the gateway's event loop free between them. */
const pagesPerStep = 256
/** Whole-copy step: one read snapshot, so that a writer on another connection cannot restart the copy for ever. */
const allPages = 0x7fffffff

/**
 * sqlite3_backup from `source` into `target`, step by step. A write through the same connection
 * (the gateway's own) is carried into the copy as it goes; a write through another connection
 * (another process, the historian's writer thread) restarts the copy, so after a restart the rest is
 * copied in one step. Written to a temporary name and renamed: a failed backup leaves no file behind.
 */
export async function copyDatabase(source: Database.Database, target: string, database: Which, onProgress?: OnProgress): Promise<void> {
  mkdirSync(dirname(target), { recursive: true })
  const partial = `${target}.partial`
  rmSync(partial, { force: true })
  let lastRemaining = Number.POSITIVE_INFINITY
  let restarted = false
  try {
    const final = await source.backup(partial, {
      progress: ({ totalPages, remainingPages }) => {
        if (remainingPages > lastRemaining) restarted = true
        lastRemaining = remainingPages
        onProgress?.({ database, totalPages, remainingPages })
        return restarted ? allPages : pagesPerStep
      },
    })
    onProgress?.({ database, totalPages: final.totalPages, remainingPages: 0 })
    // A backup is one self-contained file: out of WAL mode, so that opening it (even read-only) leaves no -wal or -shm beside it.
    const copy = new Database(partial)
    try {
      copy.pragma('journal_mode = DELETE')
    } finally {
      copy.close()
    }
  } catch (error) {
    for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(partial + suffix, { force: true })
    throw new Error(`the backup of ${database === 'mes' ? 'the MES database' : 'the historian'} to ${target} failed: ${(error as Error).message}`, { cause: error })
  }
  renameSync(partial, target)
}

export interface VerifiedBackup {
  file: string
  historianFile: string | null
  events: number
  head: string
  signatures: number
  /** Migrations applied in the backed-up database. */
  migrations: number
  bytes: number
}

export class BackupError extends Error {}

function integrityOf(db: Database.Database): string | null {
  const rows = db.prepare('PRAGMA integrity_check').pluck().all() as string[]
  return rows.length === 1 && rows[0] === 'ok' ? null : rows.slice(0, 3).join('; ')
}

/** A backup counts only when both files pass SQLite's integrity check and the event chain and signatures verify end to end. */
export function verifyBackup(file: string): VerifiedBackup {
  if (!existsSync(file)) throw new BackupError(`there is no backup at ${file}`)
  let db: Database.Database
  try {
    db = new Database(file, { readonly: true, fileMustExist: true })
    db.prepare('SELECT count(*) FROM sqlite_master').get()
  } catch (error) {
    throw new BackupError(`${file} is not an SQLite database: ${(error as Error).message}`)
  }
  try {
    const bad = integrityOf(db)
    if (bad) throw new BackupError(`${file} fails SQLite's integrity check: ${bad}`)
    const state = schemaState(db, migrationsFolder)
    if (state.applied === 0) throw new BackupError(`${file} is not a Takt gateway database (no migrations recorded)`)
    if (state.newer) throw new BackupError(newerSchemaMessage(file, state))
    const audit = verifyAudit(db)
    if (!audit.ok) throw new BackupError(`${file}: the event chain is BROKEN at seq ${audit.broken.seq} (id ${audit.broken.id}): ${audit.broken.reason}`)
    const historian = historianBackupOf(file)
    let historianFile: string | null = null
    if (existsSync(historian)) {
      const h = new Database(historian, { readonly: true, fileMustExist: true })
      try {
        const badHistorian = integrityOf(h)
        if (badHistorian) throw new BackupError(`${historian} fails SQLite's integrity check: ${badHistorian}`)
      } finally {
        h.close()
      }
      historianFile = historian
    }
    const bytes = statSync(file).size + (historianFile ? statSync(historianFile).size : 0)
    return { file, historianFile, events: audit.count, head: audit.head, signatures: audit.signatures, migrations: state.applied, bytes }
  } finally {
    db.close()
  }
}

export interface BackupSources {
  /** The MES database's connection; the gateway passes its own, a tool opens one read-only. */
  mes: Database.Database
  /** The historian file (opened read-only for the copy), or null when there is none. */
  historianFile: string | null
}

/** Backs up both databases to `file` (and its historian sibling), then verifies the copy; a copy that does not verify is deleted. */
export async function backupTo(sources: BackupSources, file: string, onProgress?: OnProgress): Promise<VerifiedBackup> {
  const historianTarget = historianBackupOf(file)
  try {
    await copyDatabase(sources.mes, file, 'mes', onProgress)
    if (sources.historianFile && existsSync(sources.historianFile)) {
      const historian = new Database(sources.historianFile, { readonly: true, fileMustExist: true })
      try {
        await copyDatabase(historian, historianTarget, 'historian', onProgress)
      } finally {
        historian.close()
      }
    }
    return verifyBackup(file)
  } catch (error) {
    rmSync(file, { force: true })
    rmSync(historianTarget, { force: true })
    throw error
  }
}

/** Backs up a data directory from outside the gateway, through read-only connections: safe while the gateway runs. */
export async function backupDataDir(dataDir: string, file: string, onProgress?: OnProgress): Promise<VerifiedBackup> {
  const mesFile = join(dataDir, mesFileName)
  if (!existsSync(mesFile)) throw new BackupError(`there is no gateway database at ${mesFile}`)
  const mes = new Database(mesFile, { readonly: true, fileMustExist: true })
  try {
    return await backupTo({ mes, historianFile: join(dataDir, historianFileName) }, file, onProgress)
  } finally {
    mes.close()
  }
}

/** A file name for a backup made at `now`: sortable, so that the newest sorts last. */
export function backupName(now: Date, prefix = 'takt'): string {
  return `${prefix}-${now.toISOString().replace(/[:.]/g, '-')}.db`
}

/** A consistent, compact copy of `source` beside `target` under a temporary name, in one snapshot; nothing is replaced yet. */
export function stageDatabase(source: string, target: string): string {
  const temp = join(dirname(target), `.${basename(target)}.restoring`)
  rmSync(temp, { force: true })
  const from = new Database(source, { readonly: true, fileMustExist: true })
  try {
    from.prepare('VACUUM INTO ?').run(temp)
  } finally {
    from.close()
  }
  return temp
}

/**
 * Renames a staged copy over the database `target` (atomic on one file system). The old file's WAL
 * and shared memory go first, folded in and removed, or SQLite would replay the old WAL onto the new file.
 */
export function swapDatabase(staged: string, target: string): void {
  if (existsSync(target)) {
    const old = new Database(target)
    try {
      old.pragma('wal_checkpoint(TRUNCATE)')
    } finally {
      old.close()
    }
  }
  for (const suffix of ['-wal', '-shm']) rmSync(target + suffix, { force: true })
  renameSync(staged, target)
}

/** Puts a copy of the database `source` in place of `target`. */
export function replaceDatabase(source: string, target: string): void {
  swapDatabase(stageDatabase(source, target), target)
}

export interface Restored {
  dataDir: string
  mes: VerifiedBackup
  /** The historian file restored, or null when the backup has none (the data directory's historian is then left alone). */
  historian: string | null
}

/** Restores a verified backup into `dataDir`; the caller has made sure no gateway runs there. */
export function restoreInto(file: string, dataDir: string): Restored {
  const verified = verifyBackup(file)
  mkdirSync(dataDir, { recursive: true })
  const mesTarget = join(dataDir, mesFileName)
  const historianTarget = join(dataDir, historianFileName)
  // Both copies are staged before either is swapped in: a failure while copying leaves the data directory as it was.
  const staged: Array<[string, string]> = []
  try {
    staged.push([stageDatabase(file, mesTarget), mesTarget])
    if (verified.historianFile) staged.push([stageDatabase(verified.historianFile, historianTarget), historianTarget])
  } catch (error) {
    for (const [temp] of staged) rmSync(temp, { force: true })
    throw error
  }
  for (const [temp, target] of staged) swapDatabase(temp, target)
  return { dataDir, mes: verified, historian: verified.historianFile ? join(dataDir, historianFileName) : null }
}
