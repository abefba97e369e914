// takt audit verify: walk the MES database's hash chain and check every signature, offline; or every gateway's chain in the central replica.
import { existsSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'

export const auditHelp = `Usage:
  takt audit verify [--data-dir DIR] [--config FILE] [--json]
      check the gateway's record end to end (21 CFR 11.10(a), (e)): every event's hash and its link
      to the one before, then every electronic signature against the record it signs.
      Reads <data dir>/takt.db read-only; the gateway may keep running.
  takt audit verify --cloud [--database-url URL] [--data-dir DIR]
      check every gateway's chain as the central replica stores it (PostgreSQL at --database-url
      or DATABASE_URL, else PGlite in the cloud data directory, default ./data-cloud), up to the
      head each gateway last pushed. Signatures are checked on the gateway.
The data directory is --data-dir, else TAKT_DATA_DIR, else dataDir of the configuration file
(--config or TAKT_CONFIG), else ./data.
Exit codes: 0 intact; 1 broken, with the first broken record named (seq, id, what is wrong);
2 usage error, or no database to check.
`

function dataDirOf(values: { 'data-dir'?: string | undefined; config?: string | undefined }): Promise<string> | string {
  if (values['data-dir']) return resolve(values['data-dir'])
  if (process.env.TAKT_DATA_DIR) return resolve(process.env.TAKT_DATA_DIR)
  const file = values.config ?? process.env.TAKT_CONFIG
  if (!file) return resolve('./data')
  return import('../edge/config.ts').then(({ loadConfig }) => resolve(loadConfig({ file }).dataDir))
}

/** Runs `takt audit ARGS`; resolves with the exit code. */
export async function runAudit(args: string[]): Promise<number> {
  const [verb, ...rest] = args
  if (verb !== 'verify') {
    process.stderr.write(`takt audit: unknown command '${verb ?? ''}'\n\n${auditHelp}`)
    return 2
  }
  let values: { 'data-dir'?: string | undefined; config?: string | undefined; json?: boolean | undefined; help?: boolean | undefined; cloud?: boolean | undefined; 'database-url'?: string | undefined }
  try {
    values = parseArgs({
      args: rest,
      options: { 'data-dir': { type: 'string' }, config: { type: 'string', short: 'c' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' }, cloud: { type: 'boolean' }, 'database-url': { type: 'string' } },
    }).values
  } catch (error) {
    process.stderr.write(`takt audit verify: ${(error as Error).message}\n\n${auditHelp}`)
    return 2
  }
  if (values.help) {
    process.stdout.write(auditHelp)
    return 0
  }
  if (values.cloud) return verifyCloud(values['database-url'] || process.env.DATABASE_URL || null, resolve(values['data-dir'] || process.env.TAKT_DATA_DIR || './data-cloud'))
  const file = join(await dataDirOf(values), 'takt.db')
  if (!existsSync(file)) {
    process.stderr.write(`takt audit verify: there is no gateway database at ${file}\n`)
    return 2
  }
  const { default: Database } = await import('better-sqlite3')
  const { verifyAudit } = await import('../edge/store/audit-verify.ts')
  // Read-only: checking the record must never be able to change it.
  const sqlite = new Database(file, { readonly: true, fileMustExist: true })
  try {
    const report = verifyAudit(sqlite)
    if (values.json) process.stdout.write(`${JSON.stringify({ file, ...report })}\n`)
    if (report.ok) {
      if (!values.json) process.stdout.write(`takt audit verify: intact: ${report.count} events, ${report.signatures} signatures, head ${report.head} (${file})\n`)
      return 0
    }
    const b = report.broken
    process.stderr.write(`takt audit verify: BROKEN at seq ${b.seq} (id ${b.id}): ${b.reason}; ${report.count} events before it are intact (${file})\n`)
    return 1
  } finally {
    sqlite.close()
  }
}

/** Every registered gateway's stored chain in the central database; the first broken record of each is named. */
async function verifyCloud(databaseUrl: string | null, dataDir: string): Promise<number> {
  if (databaseUrl === null && !existsSync(join(dataDir, 'pglite'))) {
    process.stderr.write(`takt audit verify: there is no central database: set DATABASE_URL, or point TAKT_DATA_DIR at cloud-sync's data directory (no ${join(dataDir, 'pglite')})\n`)
    return 2
  }
  const { openCloudDatabase } = await import('../cloud-sync/database.ts')
  const { verifyStoredChain } = await import('../cloud-sync/verify.ts')
  const { gateways } = await import('../cloud-sync/schema.ts')
  const db = await openCloudDatabase({ databaseUrl, dataDir })
  try {
    const rows = (await db.orm.select().from(gateways)).sort((a, b) => a.id.localeCompare(b.id))
    let broken = 0
    for (const g of rows) {
      const report = await verifyStoredChain(db.orm, g.id, g.epoch, g.headSeq, g.headHash)
      if (report.ok) process.stdout.write(`takt audit verify: gateway ${g.id} epoch ${g.epoch}: intact: ${report.count} events, head ${report.head}\n`)
      else {
        broken += 1
        process.stderr.write(`takt audit verify: gateway ${g.id} epoch ${g.epoch}: BROKEN at seq ${report.broken.seq}: ${report.broken.reason}; ${report.count} events before it are intact\n`)
      }
    }
    process.stdout.write(`takt audit verify: ${rows.length} gateways, ${rows.length - broken} intact, ${broken} broken (${databaseUrl === null ? join(dataDir, 'pglite') : 'DATABASE_URL'})\n`)
    return broken > 0 ? 1 : 0
  } finally {
    await db.close()
  }
}
