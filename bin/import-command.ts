// takt import: B2MML (XML) and JSON documents into a stopped gateway's data directory, all of them or none, or one by one into a running gateway over its API.
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { usageError } from './usage.ts'
import { locate } from './backup-command.ts'

export const importHelp = `Usage:
  takt import FILE... [--data-dir DIR] [--config FILE] [--actor NAME] [--json]
      imports into the data directory of a gateway that is not running. All the files or none: they
      are applied in the order given to a copy of the database, and the copy replaces the database
      only when every document was accepted and the event chain verifies. A refused document is
      named with its file, element path and line, and nothing is changed.
  takt import FILE... --url URL --token TOKEN [--json]
      sends each file to a running gateway's API (an integration or admin token): B2MML to
      POST /api/v1/erp/b2mml, JSON item by item. Each document is its own transaction there; the
      import stops at the first refusal, and the documents before it stay imported.
A running gateway owns its database: the first form is refused while one runs on the directory.
FILE is B2MML when it starts with '<' (schedules, material, equipment and personnel information,
as POST /api/v1/erp/b2mml takes them), else a JSON document of master data and orders, each list
optional and applied in this order, every item as the JSON API takes it:
  { "equipment": [...], "materials": [...], "boms": [...], "routings": [...],
    "people": [...], "lots": [...], "orders": [...] }
Exit codes: 0 imported; 1 a document refused or unreadable (with file and place); 2 usage error.
`

export class ImportProblem extends Error {}

type JsonKind = 'equipment' | 'materials' | 'boms' | 'routings' | 'people' | 'lots' | 'orders'
const jsonKinds: readonly JsonKind[] = ['equipment', 'materials', 'boms', 'routings', 'people', 'lots', 'orders']

export interface JsonItem {
  kind: JsonKind
  /** Where the item is: `orders[2] (line 14)`. */
  at: string
  value: { id: string; version?: string } & Record<string, unknown>
}

/** Line and column of a JSON.parse error, from the message or the position in it. */
function jsonErrorPlace(text: string, message: string): string {
  const lc = /line (\d+) column (\d+)/.exec(message)
  if (lc) return `line ${lc[1]}, column ${lc[2]}`
  const pos = /position (\d+)/.exec(message)
  if (!pos) return 'the document'
  const before = text.slice(0, Number(pos[1]))
  const line = before.split('\n').length
  return `line ${line}, column ${before.length - before.lastIndexOf('\n')}`
}

/** Where each value of a well-formed JSON text starts, by its path (`orders[2].quantity`): for problems that name a line. */
function jsonLocations(text: string): Map<string, number> {
  const at = new Map<string, number>()
  let i = 0
  const space = () => {
    while (i < text.length && /\s/.test(text[i]!)) i++
  }
  const string = (): string => {
    let j = i + 1
    while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1
    const value = JSON.parse(text.slice(i, j + 1)) as string
    i = j + 1
    return value
  }
  const value = (path: string): void => {
    space()
    at.set(path, i)
    const c = text[i]
    if (c === '{' || c === '[') {
      const close = c === '{' ? '}' : ']'
      i++
      space()
      if (text[i] === close) return void i++
      for (let n = 0; ; n++) {
        space()
        if (c === '{') {
          const key = string()
          space()
          i++ // the colon
          value(path ? `${path}.${key}` : key)
        } else value(`${path}[${n}]`)
        space()
        if (text[i++] !== ',') return
      }
    }
    if (c === '"') return void string()
    while (i < text.length && !/[,\]}\s]/.test(text[i]!)) i++
  }
  value('')
  return at
}

/** The line of a path, or of the nearest enclosing value that is there (a missing key is reported at its object). */
function lineOf(newlines: number[], locations: Map<string, number>, path: string): number {
  let p = path
  while (p && !locations.has(p)) p = p.replace(/(\.[^.[\]]+|\[\d+\])$/, '')
  const offset = locations.get(p) ?? 0
  // Lines before the offset: a binary search over where the line breaks are.
  let lo = 0
  let hi = newlines.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (newlines[mid]! < offset) lo = mid + 1
    else hi = mid
  }
  return lo + 1
}

/** Reads and validates a JSON import document against the API's own schemas; every problem is named with its path. */
export async function readJsonDocument(file: string, text: string): Promise<JsonItem[]> {
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch (error) {
    const message = (error as Error).message
    throw new ImportProblem(`${file}: ${jsonErrorPlace(text, message)}: not valid JSON (${message.split(/ in JSON| \(/)[0]})`)
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new ImportProblem(`${file}: the top level must be an object with lists: ${jsonKinds.join(', ')}`)
  const S = await import('../edge/api/schemas.ts')
  const schemas = { equipment: S.Equipment, materials: S.Material, boms: S.Bom, routings: S.Routing, people: S.Person, lots: S.Lot, orders: S.OrderRequest }
  const problems: string[] = []
  let located: { locations: Map<string, number>; newlines: number[] } | null = null
  const where = (path: string) => {
    located ??= { locations: jsonLocations(text), newlines: [...text.matchAll(/\n/g)].map((m) => m.index) }
    return `${path} (line ${lineOf(located.newlines, located.locations, path)})`
  }
  for (const key of Object.keys(doc)) if (!(jsonKinds as readonly string[]).includes(key)) problems.push(`${file}: ${where(key)}: unknown list (known: ${jsonKinds.join(', ')})`)
  const items: JsonItem[] = []
  for (const kind of jsonKinds) {
    const list = (doc as Record<string, unknown>)[kind]
    if (list === undefined) continue
    if (!Array.isArray(list)) {
      problems.push(`${file}: ${where(kind)}: must be a list`)
      continue
    }
    list.forEach((item, i) => {
      const parsed = schemas[kind].safeParse(item)
      if (!parsed.success) for (const issue of parsed.error.issues) problems.push(`${file}: ${where(`${kind}[${i}]${issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('')}`)}: ${issue.message}`)
      else items.push({ kind, at: where(`${kind}[${i}]`), value: parsed.data as JsonItem['value'] })
    })
  }
  if (problems.length > 0) throw new ImportProblem(problems.join('\n'))
  return items
}

interface Document {
  file: string
  text: string
  kind: 'b2mml' | 'json'
}

function readDocuments(files: string[]): Document[] {
  const problems: string[] = []
  const docs: Document[] = []
  for (const file of files) {
    let text: string
    try {
      text = readFileSync(file, 'utf8')
    } catch (error) {
      problems.push(`${file}: cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`)
      continue
    }
    const start = text.replace(/^\uFEFF/, '').trimStart()
    if (start === '') problems.push(`${file}: empty`)
    else docs.push({ file, text, kind: start.startsWith('<') ? 'b2mml' : 'json' })
  }
  if (problems.length > 0) throw new ImportProblem(problems.join('\n'))
  return docs
}

type Progress = (index: number, total: number, file: string, summary: string) => void

/** The progress line of a file: every file when there are few, every tenth of the way when there are many. */
function progressPrinter(quiet: boolean): Progress {
  return (index, total, file, summary) => {
    if (quiet) return
    if (total > 20 && index !== total && index % Math.ceil(total / 10) !== 0) return
    process.stderr.write(`takt import: [${index}/${total}] ${file}: ${summary}\n`)
  }
}

/** Offline: every document into a staged copy of the database, which replaces it only when all were accepted. */
async function importOffline(docs: Document[], where: Awaited<ReturnType<typeof locate>>, actor: string, progress: Progress): Promise<{ events: number; head: string; documents: number }> {
  const { holdDataDir, runningGateway, ownedMessage } = await import('../edge/store/data-dir-lock.ts')
  const owner = runningGateway(where.dataDir)
  if (owner) throw new ImportProblem(`refused: ${ownedMessage(where.dataDir, owner)}${(owner.role ?? 'gateway') === 'gateway' ? '; or send the documents to it with --url and --token' : ''}`)
  const { mkdirSync } = await import('node:fs')
  mkdirSync(where.dataDir, { recursive: true })
  // Held while the copy is staged and swapped: a gateway, another import or a restore is refused meanwhile.
  const release = holdDataDir(where.dataDir, new Date(), 'takt import')
  try {
    return await importStaged(docs, where, actor, progress)
  } finally {
    release()
  }
}

async function importStaged(docs: Document[], where: Awaited<ReturnType<typeof locate>>, actor: string, progress: Progress): Promise<{ events: number; head: string; documents: number }> {
  const { stageDatabase, swapDatabase } = await import('../edge/store/backup.ts')
  const { LineStore } = await import('../edge/store/line-store.ts')
  const { systemClock, uuidv7Ids } = await import('../edge/store/ids.ts')
  const { ErpRecords } = await import('../edge/erp/records.ts')
  const { PerformanceExport } = await import('../edge/erp/export.ts')
  const { erpNamespace, receiveDocument } = await import('../edge/erp/index.ts')
  const { where: placeOf } = await import('../edge/erp/confirmation.ts')
  const { verifyAudit } = await import('../edge/store/audit-verify.ts')
  const target = join(where.dataDir, 'takt.db')
  const staged = existsSync(target) ? stageDatabase(target, target) : join(where.dataDir, '.takt.db.restoring')
  const discard = () => {
    for (const suffix of ['', '-wal', '-shm']) rmSync(staged + suffix, { force: true })
  }
  let store: InstanceType<typeof LineStore> | null = null
  try {
    const clock = systemClock
    store = new LineStore({ file: staged, clock, ids: uuidv7Ids(clock), checkpoints: 'writer', sync: 'in-commit' })
    const records = new ErpRecords(store.db.sqlite)
    const defaultNamespace = erpNamespace(where.config.erp.defaultVersion)
    const exporter = new PerformanceExport(store.db.sqlite, records, { gatewayId: where.config.gatewayId, defaultNamespace })
    const deps = { store, records, exporter, clock, ids: uuidv7Ids(clock), gatewayId: where.config.gatewayId }
    const defines = await jsonDefines()
    for (const [i, doc] of docs.entries()) {
      if (doc.kind === 'b2mml') {
        const result = await receiveDocument(deps, doc.text, { principal: actor, actor })
        if (result.outcome === 'refused') throw new ImportProblem(result.problems.map((p) => `${doc.file}: ${placeOf(p)}: ${p.message} (${p.code})`).join('\n'))
        progress(i + 1, docs.length, doc.file, result.summary)
      } else {
        const items = await readJsonDocument(doc.file, doc.text)
        // One transaction for the whole document: each item decided in its own savepoint, as the API would.
        const outcomes = await store.applyBatch(actor, items.map((item) => (view) => defines[item.kind](view, item.value)), () => {})
        let changed = 0
        for (const [k, outcome] of outcomes.entries()) {
          const item = items[k]!
          const name = `${doc.file}: ${item.at}: ${item.value.id}${item.value.version ? ` ${item.value.version}` : ''}`
          if ('error' in outcome) throw new ImportProblem(`${name}: ${(outcome.error as Error).message}`)
          if (!outcome.executed.ok) throw new ImportProblem(`${name}: ${outcome.executed.rejection.message} (${outcome.executed.rejection.code})`)
          if (outcome.executed.recorded.length > 0) changed += 1
        }
        progress(i + 1, docs.length, doc.file, `${items.length} items, ${changed} changed`)
      }
    }
    const audit = verifyAudit(store.db.sqlite)
    if (!audit.ok) throw new ImportProblem(`the event chain does not verify after the import (seq ${audit.broken.seq}: ${audit.broken.reason}); nothing was changed`)
    store.db.sqlite.pragma('wal_checkpoint(TRUNCATE)')
    store.close()
    store = null
    for (const suffix of ['-wal', '-shm']) rmSync(staged + suffix, { force: true })
    swapDatabase(staged, target)
    return { events: audit.count, head: audit.head, documents: docs.length }
  } catch (error) {
    store?.close()
    discard()
    throw error
  }
}

/** The same core decisions the JSON API's routes make, by list. */
async function jsonDefines() {
  const m = await import('../edge/core/master-data.ts')
  const { defineOrder } = await import('../edge/core/orders.ts')
  type View = Parameters<typeof m.defineEquipment>[0]
  return {
    equipment: (v: View, x: unknown) => m.defineEquipment(v, x as Parameters<typeof m.defineEquipment>[1]),
    materials: (v: View, x: unknown) => m.defineMaterial(v, x as Parameters<typeof m.defineMaterial>[1]),
    boms: (v: View, x: unknown) => m.defineBom(v, x as Parameters<typeof m.defineBom>[1]),
    routings: (v: View, x: unknown) => m.defineRouting(v, x as Parameters<typeof m.defineRouting>[1]),
    people: (v: View, x: unknown) => m.definePerson(v, x as Parameters<typeof m.definePerson>[1]),
    lots: (v: View, x: unknown) => m.defineLot(v, x as Parameters<typeof m.defineLot>[1]),
    orders: (v: View, x: unknown) => defineOrder(v, x as Parameters<typeof defineOrder>[1]),
  } satisfies Record<JsonKind, (v: View, x: unknown) => unknown>
}

/** Online: each document to the running gateway's API, stopping at the first refusal. */
async function importOnline(docs: Document[], url: string, token: string, progress: Progress): Promise<{ documents: number }> {
  const base = url.replace(/\/+$/, '')
  const send = async (method: string, path: string, body: string, type: string) => {
    let res: Response
    try {
      res = await fetch(base + path, { method, headers: { authorization: `Bearer ${token}`, 'content-type': type, accept: 'application/json' }, body })
    } catch (error) {
      throw new ImportProblem(`the gateway at ${base} does not answer: ${(error as Error).cause ? String((error as Error).cause) : (error as Error).message}`)
    }
    const text = await res.text()
    let json: Record<string, unknown> = {}
    try {
      json = text ? (JSON.parse(text) as Record<string, unknown>) : {}
    } catch {
      json = { detail: text.slice(0, 200) }
    }
    return { status: res.status, json }
  }
  for (const [i, doc] of docs.entries()) {
    const before = i === 0 ? '' : ` (the ${i} file${i === 1 ? '' : 's'} before it stay imported)`
    if (doc.kind === 'b2mml') {
      const r = await send('POST', '/api/v1/erp/b2mml', doc.text, 'application/xml')
      if (r.status !== 200) {
        const errors = (r.json.errors as Array<{ path: string; line: number; column: number; message: string; code: string }> | undefined) ?? []
        const lines = errors.length > 0 ? errors.map((e) => `${doc.file}: ${e.path} (line ${e.line}, column ${e.column}): ${e.message} (${e.code})`) : [`${doc.file}: ${r.status} ${String(r.json.detail ?? r.json.title ?? '')}`]
        throw new ImportProblem(lines.join('\n') + before)
      }
      progress(i + 1, docs.length, doc.file, String(r.json.summary ?? 'applied'))
    } else {
      const items = await readJsonDocument(doc.file, doc.text)
      for (const item of items) {
        const id = encodeURIComponent(item.value.id)
        const path = item.kind === 'orders' ? ['POST', '/api/v1/orders'] : ['PUT', `/api/v1/${item.kind}/${id}${item.value.version ? `/${encodeURIComponent(item.value.version)}` : ''}`]
        const r = await send(path[0]!, path[1]!, JSON.stringify(item.value), 'application/json')
        if (r.status !== 200 && r.status !== 201) throw new ImportProblem(`${doc.file}: ${item.at}: ${item.value.id}: ${r.status} ${String(r.json.detail ?? r.json.title ?? '')}${before}`)
      }
      progress(i + 1, docs.length, doc.file, `${items.length} items`)
    }
  }
  return { documents: docs.length }
}

/** Runs `takt import ARGS`; resolves with the exit code. */
export async function runImport(args: string[]): Promise<number> {
  let values: Record<string, string | boolean | undefined>
  let files: string[]
  try {
    const parsed = parseArgs({
      args,
      allowPositionals: true,
      options: { 'data-dir': { type: 'string' }, config: { type: 'string', short: 'c' }, url: { type: 'string' }, token: { type: 'string' }, actor: { type: 'string' }, json: { type: 'boolean' }, quiet: { type: 'boolean', short: 'q' }, help: { type: 'boolean', short: 'h' } },
    })
    values = parsed.values
    files = parsed.positionals
  } catch (error) {
    return usageError('import', (error as Error).message)
  }
  if (values.help) {
    process.stdout.write(importHelp)
    return 0
  }
  const str = (v: string | boolean | undefined) => (typeof v === 'string' ? v : undefined)
  const url = str(values.url)
  const token = str(values.token) ?? process.env.TAKT_TOKEN
  const usage = files.length === 0 ? 'name at least one FILE to import' : url !== undefined && !token ? '--url needs --token (or TAKT_TOKEN): an integration or admin API token' : url === undefined && values.token !== undefined ? '--token goes with --url' : url !== undefined && !URL.canParse(url) ? `--url: '${url}' is not a URL` : null
  if (usage) {
    return usageError('import', usage)
  }
  const progress = progressPrinter(values.quiet === true || values.json === true)
  try {
    const docs = readDocuments(files.map((f) => resolve(f)))
    if (url !== undefined) {
      const done = await importOnline(docs, url, token!, progress)
      process.stdout.write(values.json ? `${JSON.stringify({ ok: true, url, ...done })}\n` : `takt import: ${done.documents} document${done.documents === 1 ? '' : 's'} imported into the gateway at ${url}\n`)
      return 0
    }
    const where = await locate({ 'data-dir': str(values['data-dir']), config: str(values.config) })
    const done = await importOffline(docs, where, str(values.actor) ?? 'cli:takt-import', progress)
    process.stdout.write(values.json ? `${JSON.stringify({ ok: true, dataDir: where.dataDir, ...done })}\n` : `takt import: ${done.documents} document${done.documents === 1 ? '' : 's'} imported into ${where.dataDir}: ${done.events} events, head ${done.head}\n`)
    return 0
  } catch (error) {
    if (!(error instanceof ImportProblem)) throw error
    const head = error.message.startsWith('refused') ? '' : url !== undefined ? 'refused: ' : 'refused, nothing was imported: '
    process.stderr.write(error.message.includes('\n') ? `takt import: ${head.trim()}\n${error.message}\n` : `takt import: ${head}${error.message}\n`)
    return 1
  }
}
