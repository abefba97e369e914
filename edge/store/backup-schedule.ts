// Backups inside the gateway: every backup.intervalHours and on demand (the admin API), one at a time, pruned to backup.keep.
import type Database from 'better-sqlite3'
import { readdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import type { Clock } from '../core/ports.ts'
import { backupName, backupTo, historianBackupOf, type VerifiedBackup } from './backup.ts'

export interface BackupScheduleOptions {
  /** Where backups go. */
  dir: string
  /** Hours between scheduled backups; 0: only on demand. */
  intervalHours: number
  /** Scheduled and on-demand backups kept; older ones are deleted after each new one. */
  keep: number
  /** The gateway's own MES connection: its writes go into a copy under way instead of restarting it. */
  mes: Database.Database
  historianFile: string | null
  clock: Clock
  logger: { info(obj: object, message: string): void; error(obj: object, message: string): void }
}

/** Backups this schedule made and prunes: `takt-<time>.db`. Pre-migration backups are another name and are kept. */
const ours = /^takt-\d{4}-\d\d-\d\dT[\d-]+Z\.db$/

export class BackupSchedule {
  readonly #o: BackupScheduleOptions
  #timer: NodeJS.Timeout | null = null
  #running: Promise<VerifiedBackup> | null = null
  #stopped = true

  constructor(options: BackupScheduleOptions) {
    this.#o = options
  }

  /** Starts the schedule; the first scheduled backup is one interval after the start. */
  start(): void {
    this.#stopped = false
    this.#arm()
  }

  #arm(): void {
    if (this.#stopped || this.#o.intervalHours <= 0) return
    // The next one is timed from the end of the last, so that a slow backup never overlaps the next.
    this.#timer = setTimeout(() => {
      this.#timer = null
      this.backupNow().then(
        () => this.#arm(),
        (error: unknown) => {
          this.#o.logger.error({ err: error }, 'the scheduled backup failed; the next one is tried at the next interval')
          this.#arm()
        },
      )
    }, this.#o.intervalHours * 3_600_000)
    this.#timer.unref()
  }

  /** One backup now; a request while one is under way gets that one's result. */
  backupNow(): Promise<VerifiedBackup> {
    this.#running ??= this.#backup().finally(() => (this.#running = null))
    return this.#running
  }

  async #backup(): Promise<VerifiedBackup> {
    const file = join(this.#o.dir, backupName(this.#o.clock.now()))
    const started = Date.now()
    const done = await backupTo({ mes: this.#o.mes, historianFile: this.#o.historianFile }, file)
    const pruned = this.prune()
    this.#o.logger.info({ file, events: done.events, bytes: done.bytes, ms: Date.now() - started, pruned: pruned.length }, 'backup written and verified')
    return done
  }

  /** Deletes the oldest backups beyond `keep` (with their historian copies); returns the files deleted. */
  prune(): string[] {
    let names: string[]
    try {
      names = readdirSync(this.#o.dir).filter((n) => ours.test(n)).sort()
    } catch {
      return []
    }
    const old = names.slice(0, Math.max(0, names.length - this.#o.keep)).map((n) => join(this.#o.dir, n))
    for (const file of old) {
      rmSync(file, { force: true })
      rmSync(historianBackupOf(file), { force: true })
    }
    return old
  }

  /** Stops the schedule and waits for a backup under way, so that the databases can close after it. */
  async stop(): Promise<void> {
    this.#stopped = true
    if (this.#timer) clearTimeout(this.#timer)
    this.#timer = null
    await this.#running?.catch(() => undefined)
  }
}
