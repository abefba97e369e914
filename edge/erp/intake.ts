// Receiving one B2MML document: open it, read it into a plan, decide it as one transaction, answer with a confirmation and keep a record.
import { createHash } from 'node:crypto'
import type { Clock, Ids } from '../core/ports.ts'
import type { LineStore } from '../store/line-store.ts'
import { applyPlan, type Applied } from './apply.ts'
import { documentKind, requestNoun, scheduleNoun, versionOf, type Version } from './b2mml.ts'
import { renderAnswer, type Answer } from './confirmation.ts'
import { fallbackVersion, mixedNamespaces, openDocument, type Envelope } from './envelope.ts'
import type { PerformanceExport } from './export.ts'
import { readMasterNoun, readMasterUnit } from './intake-master.ts'
import { readRequest, readSchedule, readScheduledRequest } from './intake-schedule.ts'
import { emptyPlan, type IntakePlan } from './plan.ts'
import { atOf, problemAt, Reader, type Problem } from './read.ts'
import type { ErpRecords, Outcome } from './records.ts'
import type { XmlNode } from './xml-write.ts'
import type { XmlElement } from './xml.ts'

export interface IntakeDeps {
  store: LineStore
  records: ErpRecords
  exporter: PerformanceExport
  clock: Clock
  ids: Ids
  gatewayId: string
}

export interface IntakeResult {
  documentId: number
  status: number
  outcome: Outcome
  version: string | null
  verb: string | null
  noun: string | null
  bodId: string | null
  summary: string
  problems: Problem[]
  notes: string[]
  applied: Applied | null
  lastSeq: number
  /** The Acknowledge, Confirm or Show BOD that answers the document. */
  confirmation: string
}

interface Decided {
  outcome: Outcome
  problems: Problem[]
  summary: string
  notes: string[]
  applied: Applied | null
  lastSeq: number
  shown: XmlNode[]
}

const refusedSummary = (problems: Problem[]) => `Refused as a whole; nothing was imported: ${problems.length} error${problems.length === 1 ? '' : 's'}.`

/**
 * Reads a Sync (or bare) document's requests and master-data units as each closes, so that a
 * schedule of thousands of orders is never held whole: a unit read is dropped from the tree.
 * A Process document is kept whole, to be acknowledged back.
 */
class StreamingRead {
  readonly plan = emptyPlan()
  reader: Reader | null = null
  #version: Version | null = null
  #kind: Envelope['kind'] | null = null
  #started = false

  take(el: XmlElement): boolean {
    if (!this.#started) this.#start(el)
    const version = this.#version
    const parent = el.parent
    if (!this.reader || !version || !parent || el.ns !== version.namespace || parent.ns !== version.namespace) return false
    if (this.#kind?.kind === 'schedule') {
      if (el.name !== requestNoun[version.family] || parent.name !== scheduleNoun[version.family]) return false
      // The namespace check of the whole document would not see this subtree any more.
      this.reader.problems.push(...mixedNamespaces(el, version))
      readScheduledRequest(this.reader, version.family, el, this.plan)
      return true
    }
    if (!readMasterUnitChecked(this.reader, version, parent.name, el, this.plan)) return false
    return true
  }

  #start(el: XmlElement): void {
    this.#started = true
    let root = el
    while (root.parent) root = root.parent
    this.#version = versionOf(root.ns)
    if (!this.#version) return
    const kind = documentKind(root, this.#version)
    if ((kind.kind !== 'schedule' && kind.kind !== 'master') || kind.verb === 'Process') return
    this.#kind = kind
    this.reader = new Reader(this.#version.namespace)
  }
}

function readMasterUnitChecked(r: Reader, version: Version, noun: string, el: XmlElement, plan: IntakePlan): boolean {
  if (!noun.endsWith('Information')) return false
  const before = r.problems.length
  if (!readMasterUnit(r, noun, el, plan)) return false
  if (r.problems.length === before) r.problems.push(...mixedNamespaces(el, version))
  return true
}

/** What streaming did not read: a Process document whole, a bare noun, the rest of a schedule noun. */
export function readPlan(envelope: Envelope, reader: Reader, plan: IntakePlan): IntakePlan {
  const { family } = envelope.version
  for (const noun of envelope.nouns) {
    if (envelope.kind.kind === 'master') readMasterNoun(reader, noun, plan)
    else if (noun.name === requestNoun[family]) readRequest(reader, family, noun, null, plan)
    else readSchedule(reader, family, noun, plan)
  }
  return plan
}

function appliedSummary(a: Applied): string {
  const o = a.orders
  const d = a.definitions
  const changedAny = o.created + o.changed + o.cancelled + d.changed > 0
  const orders = `${o.created} created, ${o.changed} changed, ${o.cancelled} cancelled, ${o.unchanged} unchanged`
  return changedAny ? `Applied. Orders: ${orders}. Definitions: ${d.changed} changed, ${d.unchanged} unchanged.` : `Nothing changed: the document matches what Takt holds (orders: ${o.unchanged}, definitions: ${d.unchanged}).`
}

async function decideDefinitions(deps: IntakeDeps, envelope: Envelope, streamed: StreamingRead, documentId: number, actor: string): Promise<Decided> {
  const reader = streamed.reader ?? new Reader(envelope.version.namespace)
  const plan = readPlan(envelope, reader, streamed.plan)
  const notes = [...plan.ignored].map(([what, count]) => `Not kept: ${what} (${count}).`)
  const refusal = (problems: Problem[]): Decided => ({ outcome: 'refused', problems, summary: refusedSummary(problems), notes, applied: null, lastSeq: 0, shown: [] })
  if (reader.problems.length > 0) return refusal(reader.problems)
  const now = deps.clock.now().toISOString()
  const { decide, outcome } = applyPlan(plan, { namespace: envelope.version.namespace, documentId, records: deps.records, now })
  const executed = await deps.store.submit(actor, decide)
  if (!executed.ok) return refusal(outcome.problems)
  const applied = outcome.applied!
  const lastSeq = executed.recorded.at(-1)?.seq ?? 0
  return { outcome: lastSeq > 0 ? 'applied' : 'unchanged', problems: [], summary: appliedSummary(applied), notes: [...applied.changes, ...notes], applied, lastSeq, shown: [] }
}

/** Get…Performance: the performance of each request named, all of them or a refusal listing what is missing. */
function showPerformance(deps: IntakeDeps, envelope: Envelope): Decided {
  const reader = new Reader(envelope.version.namespace)
  const { family } = envelope.version
  const response = family === 'production' ? 'ProductionResponse' : 'OperationsResponse'
  const requestId = family === 'production' ? 'ProductionRequestID' : 'OperationsRequestID'
  const problems: Problem[] = []
  const shown: XmlNode[] = []
  const at = deps.clock.now().toISOString()
  for (const noun of envelope.nouns) {
    const responses = reader.all(noun, response)
    if (responses.length === 0) reader.problem(noun, 'b2mml_element_missing', `${noun.name} needs a ${response} with a ${requestId} for each order asked about.`)
    for (const r of responses) {
      const id = reader.text(r, requestId) ?? reader.text(r, 'ID')
      if (id === undefined) {
        reader.problem(r, 'b2mml_element_missing', `${response} needs a ${requestId}: the order asked about.`)
        continue
      }
      const exported = deps.exporter.noun(id, { kind: 'order' }, at, envelope.version.namespace)
      if (exported.ok) shown.push(exported.noun)
      else problems.push(problemAt(atOf(r), exported.code, exported.status, exported.message))
    }
  }
  const all = [...reader.problems, ...problems]
  if (all.length > 0) return { outcome: 'refused', problems: all, summary: `Not answered: ${all.length} error${all.length === 1 ? '' : 's'}.`, notes: [], applied: null, lastSeq: 0, shown: [] }
  return { outcome: 'unchanged', problems: [], summary: `Performance of ${shown.length} order${shown.length === 1 ? '' : 's'}.`, notes: [], applied: null, lastSeq: 0, shown }
}

function answer(deps: IntakeDeps, version: Version, envelope: Envelope | null, decided: Decided): string {
  const a: Answer = {
    version,
    verb: envelope?.kind.verb ?? null,
    noun: envelope?.kind.noun ?? '',
    applicationArea: envelope?.applicationArea ?? null,
    releaseId: envelope?.releaseId ?? null,
    accepted: decided.outcome !== 'refused',
    problems: decided.problems,
    summary: decided.summary,
    notes: decided.notes,
    echo: envelope?.kind.verb === 'Process' ? envelope.nouns : [],
    shown: decided.shown,
  }
  return renderAnswer(a, { gatewayId: deps.gatewayId, now: deps.clock.now().toISOString(), bodId: deps.ids.next() })
}

export async function receiveDocument(deps: IntakeDeps, text: string, who: { principal: string; actor: string }): Promise<IntakeResult> {
  const sha256 = createHash('sha256').update(text).digest('hex')
  const documentId = deps.records.received(deps.clock.now().toISOString(), who.principal, sha256, Buffer.byteLength(text))
  const streamed = new StreamingRead()
  const opened = openDocument(text, (el) => streamed.take(el))
  let decided: Decided
  let envelope: Envelope | null = null
  let version: Version
  if (!opened.ok) {
    version = opened.version ?? fallbackVersion
    decided = { outcome: 'refused', problems: opened.problems, summary: refusedSummary(opened.problems), notes: [], applied: null, lastSeq: 0, shown: [] }
  } else {
    envelope = opened.envelope
    version = envelope.version
    decided = envelope.kind.kind === 'get-performance' ? showPerformance(deps, envelope) : await decideDefinitions(deps, envelope, streamed, documentId, who.actor)
  }
  const confirmation = answer(deps, version, envelope, decided)
  const status = decided.outcome === 'refused' ? (decided.problems[0]?.status ?? 422) : 200
  const verb = envelope?.kind.verb ?? null
  const noun = envelope?.kind.noun ?? null
  const record = { bodId: envelope?.bodId ?? null, family: opened.ok ? version.namespace : null, verb, noun, outcome: decided.outcome, status, errors: decided.problems, lastSeq: decided.lastSeq, confirmation }
  deps.records.finish(documentId, record)
  return { documentId, status, outcome: decided.outcome, version: opened.ok ? version.release : null, verb, noun, bodId: record.bodId, summary: decided.summary, problems: decided.problems, notes: decided.notes, applied: decided.applied, lastSeq: decided.lastSeq, confirmation }
}
