// Decisions that keep the record honest (21 CFR 11.10(e)): corrections of as-built data and dispositions of nonconformances are new events, never edits.
import { accept, refuse, type Decision } from './decision.ts'
import { event } from './events.ts'
import { reject } from './rejection.ts'
import type { NonconformanceDisposition } from './signatures.ts'

/** An event of the log as a correction sees it. */
export interface CorrectableRecord {
  seq: number
  id: string
  type: string
  subject: string
  data: Record<string, unknown>
}

/** Which fields of which as-built events may be corrected, and the type of value each takes. */
const correctable: Record<string, Record<string, 'number' | 'string'>> = {
  MeasurementRecorded: { value: 'number' },
}

export interface Correction {
  field: string
  value: unknown
  reason: string
}

/**
 * Corrects one field of an as-built event by a new AsBuiltCorrected event naming it. `current` is
 * the value in force (the last correction's, or the original's), so that the trail shows old and new.
 */
export function correctAsBuilt(original: CorrectableRecord | undefined, current: unknown, c: Correction): Decision<{ correctsSeq: number }> {
  if (!original) return refuse(reject('not_found', 'There is no such record to correct.'))
  const fields = correctable[original.type]
  if (!fields) return refuse(reject('definition_invalid', `A ${original.type} is not as-built data that can be corrected; correctable: ${Object.keys(correctable).join(', ')}.`, { field: 'seq' }))
  const kind = fields[c.field]
  if (!kind) return refuse(reject('definition_invalid', `Field '${c.field}' of a ${original.type} cannot be corrected; correctable: ${Object.keys(fields).join(', ')}.`, { field: 'field' }))
  if (typeof c.value !== kind || (kind === 'number' && !Number.isFinite(c.value))) return refuse(reject('definition_invalid', `'${c.field}' takes a ${kind}.`, { field: 'value' }))
  if (c.reason.trim() === '') return refuse(reject('definition_invalid', 'A correction needs a reason.', { field: 'reason' }))
  if (current === c.value) return refuse(reject('definition_invalid', `'${c.field}' is already ${String(c.value)}: nothing to correct.`, { field: 'value' }))
  return accept(
    [event('AsBuiltCorrected', original.subject, { correctsSeq: original.seq, correctsId: original.id, correctsType: original.type, field: c.field, from: current, to: c.value, reason: c.reason })],
    { correctsSeq: original.seq },
  )
}

export interface OpenNonconformance {
  id: string
  state: string
}

export function dispositionNonconformance(nc: OpenNonconformance | undefined, disposition: NonconformanceDisposition, reason: string): Decision<null> {
  if (!nc) return refuse(reject('not_found', 'There is no such nonconformance.'))
  if (nc.state !== 'open') return refuse(reject('order_state', `Nonconformance '${nc.id}' is ${nc.state}, not open: it was dispositioned already.`, { state: nc.state }))
  return accept([event('NonconformanceDispositioned', `nonconformance/${nc.id}`, { ncId: nc.id, disposition, reason })], null)
}
