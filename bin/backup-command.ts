// takt backup and takt restore: a verified online backup of a gateway's databases, and its restore into a stopped gateway's data directory.
import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { usageError } from './usage.ts'

export const backupHelp = `Usage: takt backup [--out FILE] [--data-dir DIR] [--config FILE] [--json] [--quiet]
  Copies the gateway's MES database (takt.db) and its historian (historian.db) with SQLite's online
  backup, safe while the gateway runs and writes, then verifies the copy: SQLite's integrity check
  on both files and the event log's hash chain and signatures end to end. Only a verified backup is
  reported done; one that does not verify is deleted.
  --out FILE   the MES copy (default <backup.dir>/takt-<time>.db); the historian goes beside it as
               FILE with .historian.db in place of .db
  --json       print the result as one JSON line
  --quiet      no progress on stderr
The data directory is --data-dir, else TAKT_DATA_DIR, else dataDir of the configuration file
(--config or TAKT_CONFIG), else ./data. backup.dir defaults to <data dir>/backups.
Exit codes: 0 written and verified; 1 failed (nothing left behind); 2 usage error.
`

export const restoreHelp = `Usage: takt restore FILE [--data-dir DIR] [--config FILE] [--json]
  Restores a backup made by takt backup (or the gateway's scheduled backups) into the data
  directory. Refused while a gateway runs on that directory. The backup is verified first (SQLite's
  integrity check, the event chain and signatures); a backup that does not verify is refused and
  nothing is changed. The databases are copied beside the old ones and renamed into place, and the
  database that is replaced is first saved as <backup.dir>/pre-restore-<time>.db.
  FILE's historian (FILE with .historian.db in place of .db) is restored with it when present.
Exit codes: 0 restored; 1 refused or failed (the data directory as it was); 2 usage error.
`

interface Located {
  dataDir: string
  backupDir: string
  config: import('../edge/config.ts').GatewayConfig
}

/** The data directory and backup directory, from --data-dir and the configuration (file and TAKT_* environment). */
export async function locate(values: { 'data-dir'?: string | undefined; config?: string | undefined }): Promise<Located> {
  const { loadConfig } = await import('../edge/config.ts')
  const env = { ...process.env }
  if (values['data-dir']) env.TAKT_DATA_DIR = resolve(values['data-dir'])
  const config = loadConfig({ file: values.config, env })
  return { dataDir: config.dataDir, backupDir: config.backup.dir ?? join(config.dataDir, 'backups'), config }
}

/** One line per database at every tenth of the way, on stderr. */
function progressPrinter(command: string): (p: { database: string; totalPages: number; remainingPages: number }) => void {
  const shown = new Map<string, number>()
  return ({ database, totalPages, remainingPages }) => {
    const done = totalPages === 0 ? 1 : (totalPages - remainingPages) / totalPages
    const tenth = Math.floor(done * 10)
    if ((shown.get(database) ?? -1) >= tenth) return
    shown.set(database, tenth)
    process.stderr.write(`takt ${command}: ${database === 'mes' ? 'MES database' : 'historian'} ${tenth * 10}% (${totalPages - remainingPages} of ${totalPages} pages)\n`)
  }
}

type Values = Record<string, string | boolean | undefined>

function parse(command: string, args: string[], options: Record<string, { type: 'string' | 'boolean'; short?: string }>): { values: Values; positionals: string[] } | number {
  try {
    return parseArgs({ args, options: { ...options, 'data-dir': { type: 'string' }, config: { type: 'string', short: 'c' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, allowPositionals: true })
  } catch (error) {
    return usageError(command, (error as Error).message)
  }
}

const str = (v: string | boolean | undefined) => (typeof v === 'string' ? v : undefined)

/** Runs `takt backup ARGS`; resolves with the exit code. */
export async function runBackup(args: string[]): Promise<number> {
  const parsed = parse('backup', args, { out: { type: 'string', short: 'o' }, quiet: { type: 'boolean', short: 'q' } })
  if (typeof parsed === 'number') return parsed
  const { values, positionals } = parsed
  if (values.help) {
    process.stdout.write(backupHelp)
    return 0
  }
  if (positionals.length > 0) {
    return usageError('backup', `unexpected argument '${positionals[0]}' (the target is given with --out FILE)`)
  }
  const where = await locate({ 'data-dir': str(values['data-dir']), config: str(values.config) })
  const { backupDataDir, backupName } = await import('../edge/store/backup.ts')
  const out = resolve(str(values.out) ?? join(where.backupDir, backupName(new Date())))
  if (existsSync(out)) {
    process.stderr.write(`takt backup: ${out} exists already; a backup never overwrites a file\n`)
    return 2
  }
  try {
    const done = await backupDataDir(where.dataDir, out, values.quiet ? undefined : progressPrinter('backup'))
    if (values.json) process.stdout.write(`${JSON.stringify({ ok: true, dataDir: where.dataDir, ...done })}\n`)
    else process.stdout.write(`takt backup: written and verified: ${done.file} (${done.events} events, head ${done.head}, ${done.signatures} signatures${done.historianFile ? `; historian ${done.historianFile}` : '; no historian'}; ${done.bytes} bytes)\n`)
    return 0
  } catch (error) {
    process.stderr.write(`takt backup: failed, nothing was kept: ${(error as Error).message}\n`)
    return 1
  }
}

/** Runs `takt restore FILE ARGS`; resolves with the exit code. */
export async function runRestore(args: string[]): Promise<number> {
  const parsed = parse('restore', args, {})
  if (typeof parsed === 'number') return parsed
  const { values, positionals } = parsed
  if (values.help) {
    process.stdout.write(restoreHelp)
    return 0
  }
  if (positionals.length !== 1) {
    return usageError('restore', positionals.length === 0 ? 'name the backup FILE to restore' : `one backup at a time, not ${positionals.length}`)
  }
  const file = resolve(positionals[0]!)
  const where = await locate({ 'data-dir': str(values['data-dir']), config: str(values.config) })
  const { holdDataDir, runningGateway, ownedMessage } = await import('../edge/store/data-dir-lock.ts')
  const { BackupError, verifyBackup } = await import('../edge/store/backup.ts')
  const owner = runningGateway(where.dataDir)
  if (owner) {
    process.stderr.write(`takt restore: refused: ${ownedMessage(where.dataDir, owner)}\n`)
    return 1
  }
  try {
    verifyBackup(file)
  } catch (error) {
    if (!(error instanceof BackupError)) throw error
    process.stderr.write(`takt restore: refused, nothing was changed: ${error.message}\n`)
    return 1
  }
  const { mkdirSync } = await import('node:fs')
  mkdirSync(where.dataDir, { recursive: true })
  // Held while the files are swapped: a gateway, an import or another restore is refused meanwhile.
  const release = holdDataDir(where.dataDir, new Date(), 'takt restore')
  try {
    return await restoreHeld(file, where, values.json === true)
  } finally {
    release()
  }
}

async function restoreHeld(file: string, where: Located, json: boolean): Promise<number> {
  const { backupName, restoreInto } = await import('../edge/store/backup.ts')
  // The database about to be replaced is kept: a restore of the wrong file can be undone.
  const current = join(where.dataDir, 'takt.db')
  let savedAside: string | null = null
  if (existsSync(current)) {
    savedAside = join(where.backupDir, backupName(new Date(), 'pre-restore'))
    try {
      const { mkdirSync } = await import('node:fs')
      const { default: Database } = await import('better-sqlite3')
      mkdirSync(where.backupDir, { recursive: true })
      const db = new Database(current, { readonly: true, fileMustExist: true })
      try {
        db.prepare('VACUUM INTO ?').run(savedAside)
      } finally {
        db.close()
      }
    } catch (error) {
      process.stderr.write(`takt restore: refused, nothing was changed: the current database ${current} could not be saved aside (${(error as Error).message}); move it away by hand first\n`)
      return 1
    }
  }
  try {
    const restored = restoreInto(file, where.dataDir)
    const m = restored.mes
    if (json) process.stdout.write(`${JSON.stringify({ ok: true, dataDir: restored.dataDir, from: file, events: m.events, head: m.head, signatures: m.signatures, migrations: m.migrations, historian: restored.historian, savedAside })}\n`)
    else {
      process.stdout.write(`takt restore: restored ${file} into ${restored.dataDir}: takt.db (${m.events} events, head ${m.head}, ${m.signatures} signatures, ${m.migrations} migrations)${restored.historian ? ', historian.db' : ' (the backup has no historian; historian.db left as it was)'}\n`)
      if (savedAside) process.stdout.write(`takt restore: the database it replaced is saved as ${savedAside}\n`)
    }
    return 0
  } catch (error) {
    process.stderr.write(`takt restore: failed: ${(error as Error).message}\n`)
    return 1
  }
}
