// Simulator scenarios: a line of simulated machines in YAML, validated like the hardware profiles, every problem with file, line and path.
import { readFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { z } from 'zod'
import { checkProfileFile, checkYamlText, formatProblem, type ProfileProblem } from '../hardware-profiles/load.ts'
import type { HardwareProfile } from '../hardware-profiles/schema.ts'
import type { MachineParams } from './model/line-model.ts'

const seconds = z.number().positive()
const spread = z.strictObject({ mean: seconds, sd: z.number().min(0).default(0) })
const mqttId = z.string().regex(/^[^/+#]+$/, 'no /, + or #')

/** The faults a technician can inject, from the scenario or live. */
export const faultKinds = ['drop_connections', 'stop_answering', 'slow', 'modbus_exception', 'opcua_bad_status', 'counter_reset', 'counter_wrap', 'clock_skew'] as const
export type FaultKind = (typeof faultKinds)[number]

export const Fault = z.strictObject({
  /** Seconds of model time after the start; absent for a fault injected live. */
  at: z.number().min(0).optional(),
  machine: z.string().min(1),
  fault: z.enum(faultKinds),
  /** Seconds it lasts; absent: until cleared. */
  duration: seconds.optional(),
  /** slow: how late each answer comes. */
  delayMs: z.number().int().min(1).max(600_000).optional(),
  /** modbus_exception: the exception code answered (Modbus Application Protocol §7). */
  code: z.number().int().min(1).max(11).optional(),
  /** opcua_bad_status: the status code name, and the signal it hits (all when absent). */
  status: z.string().regex(/^(Bad|Uncertain)[A-Za-z]*$/, 'an OPC UA status code name such as BadSensorFailure').optional(),
  signal: z.string().optional(),
  /** clock_skew: how far the machine's clock is off, ms (negative: behind). */
  skewMs: z.number().int().optional(),
})
export type Fault = z.infer<typeof Fault>

const Machine = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/),
  /** The shipped (or own) hardware profile the machine follows, relative to the scenario file. */
  profile: z.string().min(1),
  opcua: z.strictObject({ port: z.number().int().min(0).max(65535) }).optional(),
  modbus: z.strictObject({ port: z.number().int().min(0).max(65535), unitId: z.number().int().min(0).max(247).default(1) }).optional(),
  sparkplug: z
    .strictObject({ broker: z.string().regex(/^mqtts?:\/\//, 'an mqtt:// URL'), username: z.string().optional(), password: z.string().optional(), groupId: mqttId, edgeNodeId: mqttId, deviceId: mqttId.optional() })
    .optional(),
  cycleTime: spread,
  scrapRate: z.number().min(0).max(1).default(0),
  failures: z.strictObject({ mtbf: seconds, mttr: seconds, reasons: z.array(z.number().int().min(0)).min(1).default([1]) }).optional(),
  microStops: z.strictObject({ mtbf: seconds, min: seconds, max: seconds, reason: z.number().int().min(0).default(2) }).optional(),
  changeover: z.strictObject({ everyParts: z.number().int().min(1), duration: seconds, reason: z.number().int().min(0).default(3) }).optional(),
  measurements: z.array(z.strictObject({ name: z.string().min(1), mean: z.number(), sd: z.number().min(0).default(0) })).default([]),
  bufferAfter: z.number().int().min(1).max(1_000_000).default(10),
  counterStart: z.number().int().min(0).default(0),
})

export const Scenario = z.strictObject({
  scenario: z.string().regex(/^[a-z][a-z0-9_.-]*$/, 'lower-case letters, digits, _ . - and starting with a letter'),
  description: z.string().max(2000).optional(),
  seed: z.number().int().min(0).max(4294967295).default(1),
  /** Model seconds per wall second: 60 runs an hour in a minute. */
  timeScale: z.number().positive().max(10_000).default(1),
  /** The live control endpoint (faults, planned stops); 0 picks a free port, null turns it off. */
  control: z.strictObject({ host: z.string().default('127.0.0.1'), port: z.number().int().min(0).max(65535) }).nullable().default(null),
  /** Machines in line order: each one's buffer feeds the next. */
  machines: z.array(Machine).min(1),
  faults: z.array(Fault).default([]),
})
export type Scenario = z.infer<typeof Scenario>
export type ScenarioMachine = Scenario['machines'][number]

export interface LoadedScenario {
  file: string
  scenario: Scenario
  /** Each machine's hardware profile, by machine name. */
  profiles: Record<string, HardwareProfile>
}

const protocolKey = { opcua: 'opcua', modbus: 'modbus', sparkplug: 'sparkplug' } as const

/** Rules that cross fields: unique names, one protocol section that matches the profile, faults that fit. */
function crossCheck(s: Scenario, profileOf: (m: ScenarioMachine) => HardwareProfile | undefined): Array<{ path: Array<string | number>; message: string }> {
  const out: Array<{ path: Array<string | number>; message: string }> = []
  const seen = new Map<string, number>()
  s.machines.forEach((m, i) => {
    const first = seen.get(m.name)
    if (first !== undefined) out.push({ path: ['machines', i, 'name'], message: `machine '${m.name}' is already defined at machines[${first}]` })
    seen.set(m.name, i)
    const sections = (['opcua', 'modbus', 'sparkplug'] as const).filter((k) => m[k] !== undefined)
    if (sections.length !== 1) out.push({ path: ['machines', i], message: `give exactly one of opcua, modbus, sparkplug (found ${sections.length === 0 ? 'none' : sections.join(', ')})` })
    const profile = profileOf(m)
    if (!profile) return
    if (profile.protocol === 'mqtt-json') out.push({ path: ['machines', i, 'profile'], message: 'mqtt-json devices are not simulated; use an opcua, modbus or sparkplug profile' })
    else if (sections.length === 1 && protocolKey[profile.protocol] !== sections[0]) out.push({ path: ['machines', i, sections[0]!], message: `the profile is a ${profile.protocol} profile; this machine is configured as ${sections[0]}` })
    m.measurements.forEach((x, j) => {
      const signal = profile.signals.find((sig) => sig.name === x.name)
      if (!signal || signal.kind !== 'measurement') out.push({ path: ['machines', i, 'measurements', j, 'name'], message: `the profile has no measurement signal '${x.name}'` })
    })
    if (m.microStops && m.microStops.min > m.microStops.max) out.push({ path: ['machines', i, 'microStops', 'min'], message: 'min is longer than max' })
  })
  s.faults.forEach((f, i) => {
    const m = s.machines.find((x) => x.name === f.machine)
    if (!m) return out.push({ path: ['faults', i, 'machine'], message: `there is no machine '${f.machine}'` })
    out.push(...faultProblems(f, m).map((message) => ({ path: ['faults', i, 'fault'], message })))
  })
  return out
}

/** Why a fault does not fit a machine; empty when it does (also used for faults injected live). */
export function faultProblems(f: Fault, m: ScenarioMachine): string[] {
  const problems: string[] = []
  if (f.fault === 'modbus_exception' && !m.modbus) problems.push(`modbus_exception needs a Modbus machine; '${m.name}' is not one`)
  if (f.fault === 'modbus_exception' && f.code === undefined) problems.push('modbus_exception needs the exception code (code)')
  if (f.fault === 'opcua_bad_status' && !m.opcua) problems.push(`opcua_bad_status needs an OPC UA machine; '${m.name}' is not one`)
  if (f.fault === 'opcua_bad_status' && f.status === undefined) problems.push('opcua_bad_status needs the status code name (status)')
  if (f.fault === 'stop_answering' && m.sparkplug) problems.push(`stop_answering is for machines that answer requests (Modbus, OPC UA); a Sparkplug device publishes unasked — use drop_connections or slow`)
  if (f.fault === 'slow' && f.delayMs === undefined) problems.push('slow needs delayMs')
  if (f.fault === 'clock_skew' && f.skewMs === undefined) problems.push('clock_skew needs skewMs')
  if (f.fault === 'clock_skew' && m.modbus) problems.push('clock_skew needs a machine that timestamps its values (OPC UA, Sparkplug); Modbus registers carry no time')
  return problems
}

export type ScenarioResult = { ok: true; loaded: LoadedScenario } | { ok: false; problems: ProfileProblem[] }

export function checkScenarioFile(file: string): ScenarioResult {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    return { ok: false, problems: [{ file, line: null, path: '(file)', message: `cannot be read: ${(error as NodeJS.ErrnoException).code ?? String(error)}` }] }
  }
  const profiles: Record<string, HardwareProfile> = {}
  const profileProblems: ProfileProblem[] = []
  const profileOf = (m: ScenarioMachine) => {
    const result = checkProfileFile(resolve(dirname(file), m.profile))
    if (!result.ok) profileProblems.push(...result.problems)
    else profiles[m.name] = result.profile
    return result.ok ? result.profile : undefined
  }
  const result = checkYamlText(Scenario, text, file, (s) => crossCheck(s, profileOf))
  const problems = [...(result.ok ? [] : result.problems), ...profileProblems]
  if (!result.ok || problems.length > 0) return { ok: false, problems }
  return { ok: true, loaded: { file, scenario: result.value, profiles } }
}

export function describeProblems(problems: ProfileProblem[]): string {
  return problems.map(formatProblem).join('\n')
}

/** The model's view of the scenario's machines. */
export function machineParams(s: Scenario): MachineParams[] {
  return s.machines.map((m) => ({
    name: m.name,
    cycleTime: m.cycleTime,
    scrapRate: m.scrapRate,
    failures: m.failures ? { mtbf: m.failures.mtbf, mttr: m.failures.mttr, reasons: m.failures.reasons } : null,
    microStops: m.microStops ? { mtbf: m.microStops.mtbf, minS: m.microStops.min, maxS: m.microStops.max, reason: m.microStops.reason } : null,
    changeover: m.changeover ? { everyParts: m.changeover.everyParts, durationS: m.changeover.duration, reason: m.changeover.reason } : null,
    measurements: m.measurements,
    bufferAfter: m.bufferAfter,
    counterStart: m.counterStart,
  }))
}
