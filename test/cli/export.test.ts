// takt export as an integrator runs it: orders, as-built (JSON and B2MML), genealogy and the audit trail, read-only, to stdout or a file.
import Database from 'better-sqlite3'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { repoRoot, takt } from '../helpers/client.ts'
import { scratchDir } from '../helpers/gateway.ts'

t.setTimeout(120_000)

const fixtures = join(repoRoot, 'test', 'erp', 'fixtures')
const documents = ['v0600-material.xml', 'v0600-equipment.xml', 'v0600-personnel.xml', 'v0600-schedule.xml'].map((f) => join(fixtures, f))

const scratch = (prefix: string) => scratchDir(t, prefix)


const dataDir = join(scratch('takt-cli-export-data-'), 'data')
const lot = join(scratch('takt-cli-export-docs-'), 'lot.json')
writeFileSync(lot, JSON.stringify({ materials: [{ id: 'RESIN-J', name: 'Resin J', uom: 'kg' }], lots: [{ id: 'LOT-J', materialId: 'RESIN-J', status: 'released', quantity: 10 }] }))
const seeded = await takt(['import', ...documents, lot, '--data-dir', dataDir, '--quiet'])
if (seeded.code !== 0) throw new Error(`seeding failed: ${seeded.stderr}`)
const db = new Database(join(dataDir, 'takt.db'), { readonly: true })
const materialEvents = db.prepare("SELECT count(*) FROM events WHERE type = 'MaterialDefined'").pluck().get() as number
db.close()

const env = { TAKT_DATA_DIR: dataDir }

t.test('takt export orders, as-built, genealogy and audit: output that parses', async (t) => {
  const out = join(scratch('takt-cli-export-'), 'audit.json')
  // Read-only, so all at once.
  const [orders, asBuilt, b2mml, unknown, genealogy, audit, wrong] = await Promise.all([
    takt(['export', 'orders'], env),
    takt(['export', 'as-built', '--order', 'PO-100'], env),
    takt(['export', 'as-built', '--order', 'PO-100', '--format', 'b2mml'], env),
    takt(['export', 'as-built', '--order', 'PO-NONE'], env),
    takt(['export', 'genealogy', '--lot', 'LOT-J', '--direction', 'forward'], env),
    takt(['export', 'audit', '--type', 'MaterialDefined', '--out', out], env),
    takt(['export', 'genealogy'], env),
  ])
  t.equal(orders.code, 0, orders.stderr)
  const parsed = JSON.parse(orders.stdout) as { orders: Array<{ id: string; operations: Array<{ seq: number }> }> }
  t.same(parsed.orders.map((o) => o.id), ['PO-100', 'PO-101'])
  t.ok(parsed.orders[0]!.operations.length >= 2, 'each order with its operations')
  t.equal(asBuilt.code, 0, asBuilt.stderr)
  t.match(JSON.parse(asBuilt.stdout), { order: { id: 'PO-100' }, operations: [], runs: [] })
  t.equal(b2mml.code, 1, 'an order not yet completed has no performance')
  t.match(b2mml.stderr, /^takt export: .+/)
  t.equal(unknown.code, 1)
  t.match(unknown.stderr, /there is no order 'PO-NONE'/)
  t.equal(genealogy.code, 0, genealogy.stderr)
  t.match(JSON.parse(genealogy.stdout), { lot: 'LOT-J', direction: 'forward', edges: [] })
  t.equal(audit.code, 0, audit.stderr)
  t.equal(audit.stdout, '', 'with --out nothing goes to stdout')
  const trail = JSON.parse(readFileSync(out, 'utf8')) as Array<{ seq: number; type: string }>
  t.equal(trail.length, materialEvents, 'every MaterialDefined entry')
  t.ok(trail.length > 0 && trail.every((e) => e.type === 'MaterialDefined'), 'and only those')
  t.ok(trail.every((e, i) => i === 0 || e.seq > trail[i - 1]!.seq), 'in seq order')
  const twice = await takt(['export', 'audit', '--out', out], env)
  t.equal(twice.code, 2, 'an export never overwrites a file')
  t.equal(wrong.code, 2)
  t.match(wrong.stderr, /^takt export: genealogy needs one of --unit SERIAL or --lot ID/)
})

