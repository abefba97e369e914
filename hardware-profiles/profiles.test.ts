// The shipped profiles pass; a profile with errors is refused with file, line and path of each problem.
import { readdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { checkProfileFile, checkProfileText, formatProblem } from './load.ts'

const here = dirname(fileURLToPath(import.meta.url))

t.test('every shipped profile is valid', async (t) => {
  const files = readdirSync(here).filter((f) => f.endsWith('.yaml'))
  t.ok(files.length >= 4, 'OPC UA PackML, S7-1500, Modbus TCP and Sparkplug B profiles ship')
  for (const f of files) {
    const result = checkProfileFile(join(here, f))
    t.ok(result.ok, `${f}: ${result.ok ? 'ok' : result.problems.map(formatProblem).join('; ')}`)
  }
})

t.test('a bad profile names file, line and path of every problem', async (t) => {
  const text = [
    'profile: press',
    'version: 1',
    'protocol: modbus',
    'signals:',
    '  - name: state',
    '    kind: machine_state',
    '    area: holding_register',
    '    address: 70000',
    '    type: uint16',
    '  - name: alarm',
    '    kind: alarm',
    '    area: coil',
    '    address: 1',
    '    type: uint16',
    '    colour: red',
  ].join('\n')
  const result = checkProfileText(text, 'press.yaml')
  t.notOk(result.ok)
  const lines = result.ok ? [] : result.problems.map(formatProblem)
  t.equal(lines.length, 3, 'three problems, each reported')
  t.ok(lines.some((l) => /^press\.yaml:14: signals\[1\]\.type: a coil holds one bit; type must be bit/.test(l)), 'a rule across fields, on its line')
  t.ok(lines.some((l) => /^press\.yaml:8: signals\[0\]\.address: .*65535/.test(l)), 'an address out of range, on its line')
  t.ok(lines.some((l) => /^press\.yaml:15: signals\[1\]\.colour: unknown key/.test(l)), 'an unknown key, on its line')
})

t.test('semantic rules: duplicate names, a state without a map, a measurement without a unit', async (t) => {
  const text = [
    'profile: filler',
    'version: 1',
    'protocol: sparkplug',
    'signals:',
    '  - { name: state, kind: machine_state, metric: State }',
    '  - { name: weight, kind: measurement, metric: Weight }',
    '  - { name: weight, kind: value, metric: Weight2 }',
  ].join('\n')
  const result = checkProfileText(text, 'filler.yaml')
  const lines = result.ok ? [] : result.problems.map(formatProblem)
  t.same(lines, [
    'filler.yaml:5: signals[0].stateMap: a machine_state signal needs a stateMap from device values to Takt states',
    'filler.yaml:6: signals[1].unit: a measurement needs its unit',
    "filler.yaml:7: signals[2].name: signal 'weight' is already defined at signals[1]",
  ])
  const fixed = text.replace('kind: machine_state, metric: State', 'kind: machine_state, metric: State, stateMap: { RUN: running }').replace('kind: measurement, metric: Weight', 'kind: measurement, unit: g, metric: Weight').replace('name: weight, kind: value', 'name: weight2, kind: value')
  t.ok(checkProfileText(fixed, 'filler.yaml').ok, 'the corrected profile passes')
})

t.test('YAML syntax errors and unreadable files are reported, not thrown', async (t) => {
  const broken = checkProfileText('profile: x\nsignals: [\n', 'broken.yaml')
  t.notOk(broken.ok)
  t.match(broken.ok ? '' : formatProblem(broken.problems[0]!), /^broken\.yaml:\d+: \(yaml\): /)
  const missing = checkProfileFile(join(here, 'no-such-profile.yaml'))
  t.match(missing.ok ? '' : formatProblem(missing.problems[0]!), /no-such-profile\.yaml: \(file\): cannot be read: ENOENT/)
  const unknown = checkProfileText('profile: x\nversion: 1\nprotocol: profibus\nsignals: []\n', 'x.yaml')
  t.match(unknown.ok ? '' : formatProblem(unknown.problems[0]!), /^x\.yaml:3: protocol: /, 'an unknown protocol is named on its line')
})

t.test('the shipped JSON Schema is the one generated from the profile schema', async (t) => {
  const { readFileSync } = await import('node:fs')
  const { profileJsonSchema } = await import('./json-schema.ts')
  t.equal(readFileSync(join(here, 'schema.json'), 'utf8'), profileJsonSchema(), 'run `node hardware-profiles/json-schema.ts > hardware-profiles/schema.json` after changing schema.ts')
})
