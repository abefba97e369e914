// Reason codes as data: a tree of stop and scrap reasons, each mapped to one of the six big losses (or planned time).
import type { MachineState } from '../model.ts'

/**
 * The six big losses (Nakajima; oee.com's names in brackets) and planned time, which is no loss:
 * breakdown (unplanned stops) and setup (planned stops: changeovers, cleaning, adjustments) cost
 * availability; small_stop and speed (slow cycles) cost performance; startup_reject and
 * production_reject cost quality; planned is time taken out of planned production time.
 */
export type LossClass = 'breakdown' | 'setup' | 'small_stop' | 'speed' | 'startup_reject' | 'production_reject' | 'planned'
export const lossClasses: readonly LossClass[] = ['breakdown', 'setup', 'small_stop', 'speed', 'startup_reject', 'production_reject', 'planned']

/** Loss classes a stop may be given, and those a rejected unit may be given. */
export const stopLossClasses: readonly LossClass[] = ['breakdown', 'setup', 'small_stop', 'planned']
export const rejectLossClasses: readonly LossClass[] = ['startup_reject', 'production_reject']

export interface ReasonCode {
  code: string
  name: string
  parent?: string
  loss: LossClass
  /** A planned event (a changeover, planned maintenance) rather than a failure. */
  planned: boolean
  /** The PackML StopReason.ID a machine reports for it (ISA-TR88.00.02 Admin.StopReason). */
  packml?: number
}

export interface ReasonProblem {
  path: string
  message: string
}

/** Prefix of a machine stop reason that is not in the tree; kept so an operator can classify it later. */
export const unknownStopReasonPrefix = 'packml:'

export function validateReasons(reasons: readonly ReasonCode[]): ReasonProblem[] {
  const problems: ReasonProblem[] = []
  const byCode = new Map<string, ReasonCode>()
  const packml = new Map<number, string>()
  for (const [i, r] of reasons.entries()) {
    const path = `reasons[${i}]`
    if (typeof r.code !== 'string' || r.code.trim() !== r.code || r.code === '') problems.push({ path: `${path}.code`, message: 'A reason needs a code without surrounding spaces.' })
    else if (r.code.startsWith(unknownStopReasonPrefix)) problems.push({ path: `${path}.code`, message: `Codes starting '${unknownStopReasonPrefix}' are kept for machine reasons the tree does not know.` })
    else if (byCode.has(r.code)) problems.push({ path: `${path}.code`, message: `The code '${r.code}' is used twice.` })
    else byCode.set(r.code, r)
    if (typeof r.name !== 'string' || r.name.trim() === '') problems.push({ path: `${path}.name`, message: `The reason '${r.code}' needs a name.` })
    if (!lossClasses.includes(r.loss)) problems.push({ path: `${path}.loss`, message: `'${String(r.loss)}' is not a loss class (${lossClasses.join(', ')}).` })
    if (r.loss === 'planned' && !r.planned) problems.push({ path: `${path}.planned`, message: `'${r.code}' is planned time, so it is planned.` })
    if (r.loss === 'breakdown' && r.planned) problems.push({ path: `${path}.planned`, message: `'${r.code}' is a breakdown, which is never planned.` })
    if (r.packml !== undefined) {
      if (!Number.isInteger(r.packml) || r.packml < 1 || r.packml > 2_147_483_647) {
        problems.push({ path: `${path}.packml`, message: `A PackML StopReason is a positive 32-bit integer (0 means no reason); got ${String(r.packml)}.` })
      } else if (packml.has(r.packml)) {
        problems.push({ path: `${path}.packml`, message: `PackML StopReason ${r.packml} is mapped to both '${packml.get(r.packml)}' and '${r.code}'.` })
      } else packml.set(r.packml, r.code)
    }
  }
  for (const [i, r] of reasons.entries()) {
    if (r.parent === undefined) continue
    if (!byCode.has(r.parent)) {
      problems.push({ path: `reasons[${i}].parent`, message: `The parent '${r.parent}' of '${r.code}' is not in the tree.` })
      continue
    }
    const seen = new Set<string>([r.code])
    for (let p: ReasonCode | undefined = byCode.get(r.parent); p; p = p.parent === undefined ? undefined : byCode.get(p.parent)) {
      if (seen.has(p.code)) {
        problems.push({ path: `reasons[${i}].parent`, message: `'${r.code}' is its own ancestor (${[...seen, p.code].join(' → ')}).` })
        break
      }
      seen.add(p.code)
    }
  }
  return problems
}

export interface ReasonTree {
  readonly reasons: readonly ReasonCode[]
  get(code: string): ReasonCode | undefined
  /** The reason a machine's PackML StopReason.ID stands for. */
  byStopReason(packml: number): ReasonCode | undefined
  /** The reason and its ancestors, the root first; empty for an unknown code. */
  path(code: string): ReasonCode[]
  /** The children of a reason, or the roots for null. */
  children(code: string | null): ReasonCode[]
}

/** Indexes a reason list; it must be valid (validateReasons), else this throws with every problem. */
export function reasonTree(reasons: readonly ReasonCode[]): ReasonTree {
  const problems = validateReasons(reasons)
  if (problems.length > 0) throw new RangeError(`The reason tree is invalid: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`)
  const byCode = new Map(reasons.map((r) => [r.code, r]))
  const byPackml = new Map(reasons.flatMap((r) => (r.packml === undefined ? [] : [[r.packml, r] as const])))
  return {
    reasons,
    get: (code) => byCode.get(code),
    byStopReason: (packml) => byPackml.get(packml),
    path(code) {
      const out: ReasonCode[] = []
      for (let r = byCode.get(code); r; r = r.parent === undefined ? undefined : byCode.get(r.parent)) out.unshift(r)
      return out
    },
    children: (code) => reasons.filter((r) => (r.parent ?? null) === code),
  }
}

/** The reason code for a machine's StopReason.ID: 0 is no reason; an ID the tree lacks is kept as 'packml:<id>'. */
export function machineReason(tree: ReasonTree, stopReason: number | null | undefined): string | null {
  if (stopReason === null || stopReason === undefined || stopReason === 0) return null
  return tree.byStopReason(stopReason)?.code ?? `${unknownStopReasonPrefix}${stopReason}`
}

/** Where the time of a stop (one not short enough to be a small stop) goes. */
export type StopLossClass = 'breakdown' | 'setup' | 'planned'

/**
 * A known reason decides; a reason naming a performance or quality loss on a stop that outlasted the
 * micro-stop threshold is an unplanned stop. Without a known reason the state decides: planned_stop is
 * planned time, setup is setup, everything else (down, idle, starved, blocked) an unplanned stop.
 */
export function stopLossClass(tree: ReasonTree, state: MachineState, reason: string | null): StopLossClass {
  const known = reason === null ? undefined : tree.get(reason)
  if (known) return known.loss === 'planned' || known.loss === 'setup' ? known.loss : 'breakdown'
  if (state === 'planned_stop') return 'planned'
  return state === 'setup' ? 'setup' : 'breakdown'
}

/** A rejected unit's loss: the reason's, else a production reject. */
export function rejectLossClass(tree: ReasonTree, reason: string | null): 'startup_reject' | 'production_reject' {
  return reason !== null && tree.get(reason)?.loss === 'startup_reject' ? 'startup_reject' : 'production_reject'
}
