// takt export: orders, as-built, genealogy and the audit trail out of a gateway's database as JSON (or B2MML performance), read-only.
import { closeSync, existsSync, openSync, renameSync, rmSync, writeSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { usageError } from './usage.ts'
import { locate } from './backup-command.ts'

export const exportHelp = `Usage: takt export WHAT [options] [--out FILE] [--data-dir DIR] [--config FILE]
  orders [--state STATE]               every order with its operations, as JSON
  as-built --order ID [--format json|b2mml [--version V0600]]
                                       an order's as-built: JSON, or its B2MML performance
                                       (Sync…Performance, as the ERP outbox sends it)
  as-built --unit SERIAL | --lot ID    the as-built record of a unit or of an order's output lot
  genealogy --unit SERIAL | --lot ID [--direction backward|forward]
                                       where it came from (default) or where it went
  audit [--from ISO] [--to ISO] [--actor A] [--type T] [--subject S]
                                       the audit trail in seq order, as a JSON array
Reads <data dir>/takt.db read-only: the gateway may keep running. Writes to stdout, or to --out
FILE (written beside it and renamed, so a reader never sees half a file; never overwrites).
Exit codes: 0 written; 1 nothing found (an unknown order, unit or lot) or not ready; 2 usage error.
`

class ExportProblem extends Error {
  readonly code: number
  constructor(message: string, code: number) {
    super(message)
    this.code = code
  }
}

const usage = (message: string) => new ExportProblem(message, 2)
const missing = (message: string) => new ExportProblem(message, 1)

/** A sink for the export: stdout, or a temporary file renamed into place at the end. */
function sinkOf(out: string | undefined): { write(text: string): void; done(): void; abandon(): void } {
  if (out === undefined) return { write: (text) => void process.stdout.write(text), done: () => {}, abandon: () => {} }
  const file = resolve(out)
  if (existsSync(file)) throw usage(`${file} exists already; an export never overwrites a file`)
  const temp = `${file}.partial`
  const fd = openSync(temp, 'w')
  return {
    write: (text) => void writeSync(fd, text),
    done: () => {
      closeSync(fd)
      renameSync(temp, file)
    },
    abandon: () => {
      closeSync(fd)
      rmSync(temp, { force: true })
    },
  }
}

type Values = Record<string, string | boolean | undefined>
const str = (v: string | boolean | undefined) => (typeof v === 'string' ? v : undefined)

async function exportWhat(what: string, values: Values, sqlite: import('better-sqlite3').Database, sink: ReturnType<typeof sinkOf>, config: Awaited<ReturnType<typeof locate>>['config']): Promise<void> {
  const json = (value: unknown) => sink.write(`${JSON.stringify(value, null, 2)}\n`)
  const unit = str(values.unit)
  const lot = str(values.lot)
  const order = str(values.order)
  if (what === 'orders') {
    const { betterSqlite, orm } = await import('../edge/store/drizzle.ts')
    const schema = await import('../edge/store/schema.ts')
    const db = betterSqlite.drizzle(sqlite, { schema })
    const state = str(values.state)
    const orders = db.select().from(schema.orders).where(state ? orm.eq(schema.orders.state, state as never) : undefined).orderBy(orm.asc(schema.orders.id)).all()
    const ops = db.select().from(schema.orderOperations).orderBy(orm.asc(schema.orderOperations.orderId), orm.asc(schema.orderOperations.seq)).all()
    const byOrder = Map.groupBy(ops, (o) => o.orderId)
    json({ orders: orders.map((o) => ({ ...o, operations: byOrder.get(o.id) ?? [] })) })
    return
  }
  if (what === 'as-built') {
    if ([order, unit, lot].filter((v) => v !== undefined).length !== 1) throw usage('as-built needs one of --order ID, --unit SERIAL or --lot ID')
    const format = str(values.format) ?? 'json'
    if (format !== 'json' && format !== 'b2mml') throw usage(`--format: json or b2mml, not '${format}'`)
    if (format === 'b2mml') {
      if (order === undefined) throw usage('--format b2mml exports an order: give --order ID')
      const { ErpRecords } = await import('../edge/erp/records.ts')
      const { PerformanceExport, namespaceForVersion } = await import('../edge/erp/export.ts')
      const { erpNamespace } = await import('../edge/erp/index.ts')
      const { systemClock, uuidv7Ids } = await import('../edge/store/ids.ts')
      const version = str(values.version)
      const namespace = version === undefined ? undefined : namespaceForVersion(version)
      if (namespace === null) throw usage(`--version: '${version}' is not a B2MML version (V0401 … V0699, or V0700 and later)`)
      const exporter = new PerformanceExport(sqlite, new ErpRecords(sqlite), { gatewayId: config.gatewayId, defaultNamespace: erpNamespace(config.erp.defaultVersion) })
      const doc = exporter.document(order, { kind: 'order' }, new Date().toISOString(), uuidv7Ids(systemClock), namespace)
      if (!doc.ok) throw missing(doc.message)
      sink.write(doc.xml.endsWith('\n') ? doc.xml : `${doc.xml}\n`)
      return
    }
    if (order !== undefined) {
      const { AsBuiltReader } = await import('../edge/erp/as-built.ts')
      const found = new AsBuiltReader(sqlite).read(order)
      if (!found) throw missing(`there is no order '${order}'`)
      json(found)
      return
    }
    const { LineQueries } = await import('../edge/store/queries.ts')
    const found = new LineQueries(sqlite).asBuilt(unit !== undefined ? 'unit' : 'lot', (unit ?? lot)!)
    if (!found) throw missing(`there is no ${unit !== undefined ? `unit '${unit}'` : `lot '${lot}'`}`)
    json(found)
    return
  }
  if (what === 'genealogy') {
    if ((unit === undefined) === (lot === undefined)) throw usage('genealogy needs one of --unit SERIAL or --lot ID')
    const direction = str(values.direction) ?? 'backward'
    if (direction !== 'backward' && direction !== 'forward') throw usage(`--direction: backward or forward, not '${direction}'`)
    const { LineQueries } = await import('../edge/store/queries.ts')
    const q = new LineQueries(sqlite)
    const kind = unit !== undefined ? 'unit' : 'lot'
    const id = (unit ?? lot)!
    const known = kind === 'unit' ? sqlite.prepare('SELECT 1 FROM units WHERE serial = ?').get(id) : sqlite.prepare('SELECT 1 FROM lots WHERE id = ? UNION SELECT 1 FROM orders WHERE output_lot = ?').get(id, id)
    if (!known) throw missing(`there is no ${kind} '${id}'`)
    json(direction === 'backward' ? { [kind]: id, direction, edges: q.traceBackward(kind, id) } : { [kind]: id, direction, ...q.traceForward(kind, id) })
    return
  }
  if (what === 'audit') {
    const { AuditQueries } = await import('../edge/store/audit-queries.ts')
    const filter = { from: str(values.from), to: str(values.to), actor: str(values.actor), type: str(values.type), subject: str(values.subject) }
    for (const key of ['from', 'to'] as const) if (filter[key] !== undefined && Number.isNaN(Date.parse(filter[key]!))) throw usage(`--${key}: '${filter[key]}' is not an ISO 8601 time`)
    const audit = new AuditQueries(sqlite)
    // Page by page: memory stays flat however long the trail.
    let after = 0
    let first = true
    sink.write('[')
    for (;;) {
      const page = audit.page(filter, after, 1000)
      for (const e of page.items) {
        sink.write(`${first ? '' : ','}\n${JSON.stringify(e)}`)
        first = false
      }
      if (page.next === null) break
      after = page.next
    }
    sink.write('\n]\n')
    return
  }
  throw usage(`unknown export '${what}' (orders, as-built, genealogy, audit)`)
}

/** Runs `takt export ARGS`; resolves with the exit code. */
export async function runExport(args: string[]): Promise<number> {
  let values: Values
  let positionals: string[]
  try {
    const parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        out: { type: 'string', short: 'o' },
        'data-dir': { type: 'string' },
        config: { type: 'string', short: 'c' },
        state: { type: 'string' },
        order: { type: 'string' },
        unit: { type: 'string' },
        lot: { type: 'string' },
        format: { type: 'string' },
        version: { type: 'string' },
        direction: { type: 'string' },
        from: { type: 'string' },
        to: { type: 'string' },
        actor: { type: 'string' },
        type: { type: 'string' },
        subject: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    })
    values = parsed.values
    positionals = parsed.positionals
  } catch (error) {
    return usageError('export', (error as Error).message)
  }
  if (values.help) {
    process.stdout.write(exportHelp)
    return 0
  }
  if (positionals.length !== 1) {
    return usageError('export', positionals.length === 0 ? 'say what to export: orders, as-built, genealogy or audit' : `one export at a time, not '${positionals.join(' ')}'`)
  }
  const where = await locate({ 'data-dir': str(values['data-dir']), config: str(values.config) })
  const file = join(where.dataDir, 'takt.db')
  if (!existsSync(file)) {
    process.stderr.write(`takt export: there is no gateway database at ${file}\n`)
    return 2
  }
  const { default: Database } = await import('better-sqlite3')
  let sink: ReturnType<typeof sinkOf> | null = null
  const sqlite = new Database(file, { readonly: true, fileMustExist: true })
  try {
    sink = sinkOf(str(values.out))
    await exportWhat(positionals[0]!, values, sqlite, sink, where.config)
    sink.done()
    return 0
  } catch (error) {
    sink?.abandon()
    if (!(error instanceof ExportProblem)) throw error
    if (error.code === 2) return usageError('export', error.message)
    process.stderr.write(`takt export: ${error.message}\n`)
    return error.code
  } finally {
    sqlite.close()
  }
}
