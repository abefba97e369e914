// Scenario files: the shipped ones load; a bad one is refused with file, line and path, and every problem listed.
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { checkScenarioFile, describeProblems, machineParams } from '../scenario.ts'

const scenarios = join(import.meta.dirname, '..', 'scenarios')
const profiles = join(import.meta.dirname, '..', '..', 'hardware-profiles')

t.test('every shipped scenario loads, with each machine following its profile', async (t) => {
  // Beside the scenarios, *.takt.yaml are the matching gateway configs (tested in demo-line.test.ts).
  const files = readdirSync(scenarios).filter((f) => f.endsWith('.yaml') && !f.endsWith('.takt.yaml'))
  t.ok(files.length >= 1)
  for (const f of files) {
    const result = checkScenarioFile(join(scenarios, f))
    t.ok(result.ok, `${f}: ${result.ok ? 'ok' : describeProblems(result.problems)}`)
  }
  const demo = checkScenarioFile(join(scenarios, 'demo-line.yaml'))
  if (!demo.ok) throw new Error('demo-line')
  t.same(demo.loaded.scenario.machines.map((m) => [m.name, demo.loaded.profiles[m.name]!.protocol]), [
    ['press1', 'modbus'],
    ['screw1', 'opcua'],
    ['tester1', 'opcua'],
    ['labeler1', 'sparkplug'],
  ])
  t.equal(machineParams(demo.loaded.scenario)[1]!.changeover?.everyParts, 400)
})

t.test('a bad scenario names file, line and path of every problem, and loads nothing', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'takt-scenario-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, 'bad.yaml')
  writeFileSync(
    file,
    [
      'scenario: bad-line',
      'machines:',
      `  - name: m1`,
      `    profile: ${profiles}/generic-modbus-tcp-machine.yaml`,
      '    opcua: { port: 0 }',
      '    cycleTime: { mean: 2 }',
      '    measurements: [{ name: weight, mean: 1 }]',
      `  - name: m1`,
      `    profile: ${profiles}/packml-opcua-machine.yaml`,
      '    opcua: { port: 0 }',
      '    cycleTime: { mean: 2 }',
      'faults:',
      '  - { at: 10, machine: m9, fault: slow, delayMs: 100 }',
      '  - { at: 10, machine: m1, fault: modbus_exception }',
      '',
    ].join('\n'),
  )
  const result = checkScenarioFile(file)
  t.notOk(result.ok)
  if (result.ok) return
  t.same(describeProblems(result.problems).split('\n'), [
    `${file}:5: machines[0].opcua: the profile is a modbus profile; this machine is configured as opcua`,
    `${file}:7: machines[0].measurements[0].name: the profile has no measurement signal 'weight'`,
    `${file}:8: machines[1].name: machine 'm1' is already defined at machines[0]`,
    `${file}:13: faults[0].machine: there is no machine 'm9'`,
    `${file}:14: faults[1].fault: modbus_exception needs a Modbus machine; 'm1' is not one`,
    `${file}:14: faults[1].fault: modbus_exception needs the exception code (code)`,
  ])
  writeFileSync(file, 'scenario: Bad Name\nmachines: []\nextra: 1\n')
  const schema = checkScenarioFile(file)
  t.same(schema.ok ? [] : schema.problems.map((p) => [p.line, p.path]), [
    [1, 'scenario'],
    [2, 'machines'],
    [3, 'extra'],
  ])
  t.match(checkScenarioFile(join(dir, 'missing.yaml')), { ok: false, problems: [{ path: '(file)', message: /cannot be read: ENOENT/ }] })
})
