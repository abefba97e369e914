// Electronic signatures (21 CFR 11.50, 11.70, 11.200): what a signature states, bound to the digest of the record it signs.
import { createHash } from 'node:crypto'
import { canonicalJson } from './canonical-json.ts'
import type { Decision } from './decision.ts'
import { event, type NewEvent } from './events.ts'

export const signatureMeanings = ['review', 'approval', 'responsibility', 'authorship'] as const
export type SignatureMeaning = (typeof signatureMeanings)[number]

export const nonconformanceDispositions = ['use_as_is', 'rework', 'repair', 'scrap', 'return_to_supplier'] as const
export type NonconformanceDisposition = (typeof nonconformanceDispositions)[number]

/** Actions that can be configured to need a signature, or a second person (the performer may not sign them). */
export const signedActions = ['unit-hold-release', 'nonconformance-disposition', 'order-close', 'record-approval'] as const
export type SignedAction = (typeof signedActions)[number]

/** What a signature states, as the event log keeps it (21 CFR 11.50(a)): who, when, what it means, which record. */
export interface SignatureManifest {
  signatureId: string
  /** The signed record: its seq in the log, type and subject. */
  signedSeq: number
  signedType: string
  signedSubject: string
  /** SHA-256 of the signed record's canonical content: the signature cannot be moved to another record (11.70). */
  recordHash: string
  signerId: string
  /** The signer's printed name as it was at signing time (11.50(a)(1)). */
  signerName: string
  meaning: SignatureMeaning
  /** UTC instant of signing, and the same instant as local time with its offset and zone (11.50(a)(2)). */
  signedAt: string
  localTime: string
  timeZone: string
  /** How the signer proved who they are: both components (first signing of a session) or the secret alone (11.200(a)(1)). */
  method: 'password' | 'badge'
  components: 'both' | 'secret'
  reason: string | null
}

/** The part of a logged event a signature is bound to. */
export interface SignableRecord {
  seq: number
  type: string
  subject: string
  data: unknown
}

/** SHA-256 over the record's seq, type, subject and data as canonical JSON: unique per record, recomputable from the log. */
export function recordDigest(r: SignableRecord): string {
  return createHash('sha256').update(canonicalJson({ seq: r.seq, type: r.type, subject: r.subject, data: r.data })).digest('hex')
}

export interface Signer {
  id: string
  name: string
  method: 'password' | 'badge'
  components: 'both' | 'secret'
}

export interface SignatureRequest {
  signer: Signer
  meaning: SignatureMeaning
  reason: string | null
  at: Date
  timeZone: string
  signatureId: string
}

/** A date as local wall-clock time in `timeZone` with its UTC offset, e.g. 2026-12-02T09:15:00.000+01:00. */
export function localTime(at: Date, timeZone: string): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' })
      .formatToParts(at)
      .map((p) => [p.type, p.value]),
  ) as Record<string, string>
  const wall = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second), at.getUTCMilliseconds())
  const offsetMin = Math.round((wall - at.getTime()) / 60_000)
  const sign = offsetMin < 0 ? '-' : '+'
  const abs = Math.abs(offsetMin)
  const offset = `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`
  const ms = String(at.getUTCMilliseconds()).padStart(3, '0')
  return `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}.${ms}${offset}`
}

/** The RecordSigned event for a record. */
export function signatureEvent(record: SignableRecord, req: SignatureRequest): NewEvent {
  const manifest: SignatureManifest = {
    signatureId: req.signatureId,
    signedSeq: record.seq,
    signedType: record.type,
    signedSubject: record.subject,
    recordHash: recordDigest(record),
    signerId: req.signer.id,
    signerName: req.signer.name,
    meaning: req.meaning,
    signedAt: req.at.toISOString(),
    localTime: localTime(req.at, req.timeZone),
    timeZone: req.timeZone,
    method: req.signer.method,
    components: req.signer.components,
    reason: req.reason,
  }
  // Filed under the signed record's subject, so that reading a record's history finds its signatures.
  return event('RecordSigned', record.subject, manifest)
}

/**
 * Signs the first event of an accepted decision, in the same append: `firstSeq` is the seq the log
 * will give that event. A refusal passes through unsigned.
 */
export function signFirst<R>(decision: Decision<R>, firstSeq: number, req: SignatureRequest): Decision<R> {
  if (!decision.ok) return decision
  const [signed] = decision.events
  if (!signed) return decision
  return { ...decision, events: [...decision.events, signatureEvent({ seq: firstSeq, type: signed.type, subject: signed.subject, data: signed.data }, req)] }
}

/** The person id behind an event actor such as `person:olga` or `person:olga;terminal=T-01`; null for tokens and machines. */
export function personOfActor(actor: string): string | null {
  const m = /^person:([^;]+)/.exec(actor)
  return m ? m[1]! : null
}

/** Whether a two-person rule stops `signerId`: they performed the action being signed (21 CFR 11.10(g), authority checks). */
export function performerConflict(performerActors: readonly string[], signerId: string): boolean {
  return performerActors.some((a) => personOfActor(a) === signerId || a === signerId)
}

export type SignatureCheck = { ok: true } | { ok: false; reason: string }

/** Checks one stored signature against the record it names: same seq, type, subject and digest. */
export function checkSignature(manifest: SignatureManifest, record: SignableRecord | undefined): SignatureCheck {
  if (!record) return { ok: false, reason: `the signed record seq ${manifest.signedSeq} does not exist` }
  if (record.type !== manifest.signedType || record.subject !== manifest.signedSubject) {
    return { ok: false, reason: `the signature names a ${manifest.signedType} of ${manifest.signedSubject}, seq ${record.seq} is a ${record.type} of ${record.subject}` }
  }
  if (recordDigest(record) !== manifest.recordHash) return { ok: false, reason: `the record hash does not match seq ${record.seq}: the signature was moved or the record changed` }
  return { ok: true }
}
