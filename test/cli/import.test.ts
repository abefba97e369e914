// takt import as an integrator runs it: B2MML and JSON, all or none, offline or into a running gateway over its API.
import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { repoRoot, takt } from '../helpers/client.ts'
import { scratchDir, startTestGateway } from '../helpers/gateway.ts'

t.setTimeout(180_000)

const fixtures = join(repoRoot, 'test', 'erp', 'fixtures')
const masterData = ['v0600-material.xml', 'v0600-equipment.xml', 'v0600-personnel.xml'].map((f) => join(fixtures, f))
const schedule = join(fixtures, 'v0600-schedule.xml')

const scratch = (prefix: string) => scratchDir(t, prefix)
const files = scratch('takt-cli-docs-')
function write(name: string, text: string): string {
  const file = join(files, name)
  writeFileSync(file, text)
  return file
}


const digest = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex')

// A schedule whose first consumed quantity is not a number (line 64), and a material document that is not well-formed (line 15).
const badQuantity = write('bad-quantity.xml', readFileSync(schedule, 'utf8').split('\n').map((l, i) => (i === 63 ? l.replace('<QuantityString>200<', '<QuantityString>lots<') : l)).join('\n'))
const notWellFormed = write('not-well-formed.xml', readFileSync(masterData[0]!, 'utf8').replace(/<\/ID>/, '</IDX>'))

const dataDir = join(scratch('takt-cli-import-'), 'data')

t.test('good B2MML documents: imported in order, progress per file, the chain intact', async (t) => {
  const r = await takt(['import', ...masterData, schedule, '--data-dir', dataDir])
  t.equal(r.code, 0, r.stderr)
  t.match(r.stdout, new RegExp(`^takt import: 4 documents imported into ${dataDir}: \\d+ events, head [0-9a-f]{64}\\n$`))
  for (let i = 1; i <= 4; i++) t.match(r.stderr, new RegExp(`takt import: \\[${i}/4\\] .+: Applied\\.`), `progress of file ${i}`)
  t.match(r.stderr, /\[4\/4\] .*v0600-schedule\.xml: Applied\. Orders: 2 created/)
  t.same(readdirSync(dataDir).filter((n) => n.startsWith('.')), [], 'no staged copy is left behind')
  const verify = await takt(['audit', 'verify', '--data-dir', dataDir])
  t.equal(verify.code, 0, verify.stderr)
})

t.test('a bad document among good ones: named with file, element and line; nothing is imported', async (t) => {
  const before = digest(join(dataDir, 'takt.db'))
  const extra = write('more.json', JSON.stringify({ materials: [{ id: 'NEW-1', name: 'New', uom: 'kg' }] }))
  const r = await takt(['import', extra, ...masterData, badQuantity, '--data-dir', dataDir])
  t.equal(r.code, 1)
  t.match(r.stderr, /takt import: refused, nothing was imported: .*bad-quantity\.xml: \/SyncProductionSchedule\/DataArea\/ProductionSchedule\/ProductionRequest\[1\]\/SegmentRequirement\[1\]\/MaterialConsumedRequirement\[1\]\/Quantity\/QuantityString \(line 64, column \d+\): QuantityString 'lots' is not a decimal number\. \(b2mml_value_invalid\)/)
  t.equal(digest(join(dataDir, 'takt.db')), before, 'the database is byte for byte as it was')
  const malformed = await takt(['import', notWellFormed, '--data-dir', dataDir])
  t.equal(malformed.code, 1)
  t.match(malformed.stderr, /not-well-formed\.xml: .*\(line 15, column \d+\): The document is not well-formed XML: unexpected close tag <\/IDX>/)
  t.equal(digest(join(dataDir, 'takt.db')), before, 'still as it was')
  t.same(readdirSync(dataDir).filter((n) => n.startsWith('.')), [], 'no staged copy is left behind')
  const fresh = join(scratch('takt-cli-empty-'), 'data')
  const none = await takt(['import', notWellFormed, '--data-dir', fresh])
  t.equal(none.code, 1)
  t.notOk(existsSync(join(fresh, 'takt.db')), 'a refused first import leaves no database')
})

t.test('JSON documents: the API schemas, every problem with its path; a refusal by a rule names the item', async (t) => {
  const good = write('line.json', JSON.stringify({ materials: [{ id: 'RESIN-J', name: 'Resin J', uom: 'kg' }], lots: [{ id: 'LOT-J', materialId: 'RESIN-J', status: 'released', quantity: 10 }] }))
  const ok = await takt(['import', good, '--data-dir', dataDir])
  t.equal(ok.code, 0, ok.stderr)
  t.match(ok.stderr, /\[1\/1\] .*line\.json: 2 items, 2 changed/)
  const before = digest(join(dataDir, 'takt.db'))
  const invalid = write('invalid.json', JSON.stringify({ materials: [{ id: 'M-OK', name: 'Fine', uom: 'kg' }], orders: [{ id: 'PO-J', productId: 'PASTE', quantity: -1 }], widgets: [] }, null, 2))
  const r = await takt(['import', invalid, '--data-dir', dataDir])
  t.equal(r.code, 1)
  t.match(r.stderr, /invalid\.json: widgets \(line 16\): unknown list/)
  t.match(r.stderr, /invalid\.json: orders\[0\]\.quantity \(line 13\): Too small/)
  t.match(r.stderr, /invalid\.json: orders\[0\]\.bomId \(line 10\): /, 'a missing key is placed at its object')
  const syntax = await takt(['import', write('syntax.json', '{\n  "materials": [\n    {"id": "X",}\n  ]\n}\n'), '--data-dir', dataDir])
  t.equal(syntax.code, 1)
  t.match(syntax.stderr, /syntax\.json: line 3, column \d+: not valid JSON/)
  const unknownMaterial = write('rule.json', JSON.stringify({ lots: [{ id: 'LOT-X', materialId: 'NO-SUCH-MATERIAL', status: 'released', quantity: 1 }] }, null, 2))
  const rule = await takt(['import', unknownMaterial, '--data-dir', dataDir])
  t.equal(rule.code, 1)
  t.match(rule.stderr, /rule\.json: lots\[0\] \(line 3\): LOT-X: .*NO-SUCH-MATERIAL/)
  t.equal(digest(join(dataDir, 'takt.db')), before, 'none of the refused documents changed anything')
})

t.test('many files: progress at every tenth of the way', async (t) => {
  const many = Array.from({ length: 30 }, (_, i) => write(`many-${i}.json`, JSON.stringify({ materials: [{ id: `MANY-${i}`, name: `Many ${i}`, uom: 'kg' }] })))
  const r = await takt(['import', ...many, '--data-dir', dataDir])
  t.equal(r.code, 0, r.stderr)
  const lines = r.stderr.trim().split('\n')
  t.ok(lines.length >= 10 && lines.length <= 11, `${lines.length} progress lines for 30 files`)
  t.match(lines.at(-1), /\[30\/30\] .*many-29\.json/)
})

t.test('a running gateway: the offline import is refused; --url imports through its API', async (t) => {
  const gw = await startTestGateway(join(scratch('takt-cli-running-'), 'data'))
  t.teardown(() => gw.stop())
  const before = (await gw.call('GET', '/health')).body.eventSeq as number
  const offline = await takt(['import', ...masterData, '--data-dir', gw.dataDir])
  t.equal(offline.code, 1)
  t.match(offline.stderr, new RegExp(`^takt import: refused: the gateway \\(pid ${process.pid} on .+\\) is running on ${gw.dataDir}; stop it first .*--url and --token`))
  t.equal((await gw.call('GET', '/health')).body.eventSeq, before, 'nothing was written under it')
  const token = 'test-admin-token-0123456789abcdef'
  const online = await takt(['import', ...masterData, schedule, '--url', gw.url, '--token', token])
  t.equal(online.code, 0, online.stderr)
  t.match(online.stdout, /takt import: 4 documents imported into the gateway at/)
  t.equal((await gw.call('GET', '/api/v1/orders')).body.items.length, 2, 'the orders arrived')
  const seq = (await gw.call('GET', '/health')).body.eventSeq as number
  const refused = await takt(['import', badQuantity, '--url', gw.url, '--token', token])
  t.equal(refused.code, 1)
  t.match(refused.stderr, /bad-quantity\.xml: .*QuantityString \(line 64, column \d+\): QuantityString 'lots' is not a decimal number/)
  t.equal((await gw.call('GET', '/health')).body.eventSeq, seq, 'the refused document recorded nothing')
  const badToken = await takt(['import', schedule, '--url', gw.url, '--token', 'not-a-token-at-all-xxxxxxxx'])
  t.equal(badToken.code, 1)
  t.match(badToken.stderr, /v0600-schedule\.xml: 401/)
})
