// The line's Unified Namespace: MES events and current state published on ISA-95 topic paths.
import type { RecordedEvent } from '../core/events.ts'
import type { LineView } from '../core/line-view.ts'
import type { LineQueries } from '../store/queries.ts'

export interface UnsSink {
  publish(topic: string, payload: string, options: { qos: 0 | 1; retain: boolean }): Promise<void>
}

/** Topic-safe level: MQTT forbids wildcards in topic names (MQTT-4.7.1-1) and '/' would split a level. */
export function topicLevel(id: string): string {
  return id.replace(/[+#/\u0000]/g, '_')
}

/** site/area/line[/work center] of an equipment id, from the hierarchy; undefined when not defined. */
export function equipmentPath(view: LineView, id: string): string | undefined {
  const levels: string[] = []
  let current = view.equipment(id)
  while (current) {
    levels.unshift(topicLevel(current.id))
    current = current.parentId ? view.equipment(current.parentId) : undefined
  }
  return levels.length > 0 ? levels.join('/') : undefined
}

const orderOf = (e: RecordedEvent): string | undefined => {
  const data = e.data as { orderId?: unknown; id?: unknown }
  if (typeof data.orderId === 'string') return data.orderId
  if (e.type === 'OrderCreated' && typeof data.id === 'string') return data.id
  return undefined
}

/**
 * Topic tree (documented in docs/uns.md):
 *   {site}/{area}/{line}/events/{EventType}        every MES event, QoS 1, not retained
 *   {site}/{area}/{line}/orders/{order}/state      order state and WIP, QoS 1, retained
 *   {site}/{area}/{line}/{workCenter}/run          the latest run event there, QoS 1, retained
 *   {site}/{area}/{line}/{workCenter}/state        the machine state, QoS 1, retained
 *   {site}/{area}/{line}/_gateway/health           the gateway's health, QoS 1, retained (edge/health/uns-health.ts)
 */
export class UnsPublisher {
  readonly #sink: UnsSink
  readonly #view: LineView
  readonly #queries: LineQueries
  readonly #now: () => Date
  readonly #onError: (error: unknown) => void
  readonly #stateDelayMs: number
  readonly #dirtyOrders = new Set<string>()
  readonly #paths = new Map<string, string | undefined>()
  // An order's line and a run's work center never change once recorded: look each up once.
  readonly #orderLines = new Map<string, string>()
  readonly #runCenters = new Map<string, string>()
  #stateTimer: NodeJS.Timeout | null = null

  /** `stateDelayMs`: order states are coalesced and published at most this often (events are never delayed). */
  constructor(sink: UnsSink, view: LineView, queries: LineQueries, now: () => Date, onError: (error: unknown) => void, stateDelayMs = 200) {
    this.#sink = sink
    this.#view = view
    this.#queries = queries
    this.#now = now
    this.#onError = onError
    this.#stateDelayMs = stateDelayMs
  }

  /** Publishes what a commit recorded; called after the commit, never inside it. */
  publishRecorded(events: RecordedEvent[]): void {
    const orders = new Set<string>()
    const runTopics = new Map<string, string>()
    const orderLines = this.#orderLines
    const runCenters = this.#runCenters
    if (orderLines.size > 10_000) orderLines.clear()
    if (runCenters.size > 10_000) runCenters.clear()
    for (const e of events) {
      if (e.type === 'EquipmentDefined') this.#paths.clear()
      const orderId = orderOf(e)
      let line: string | undefined
      if (orderId) {
        let lineId = orderLines.get(orderId)
        if (lineId === undefined) {
          lineId = this.#view.order(orderId)?.lineId
          if (lineId !== undefined) orderLines.set(orderId, lineId)
        }
        line = lineId === undefined ? undefined : this.#path(lineId)
      } else {
        const workCenterId = (e.data as { workCenterId?: unknown }).workCenterId
        const wcLine = typeof workCenterId === 'string' ? this.#view.equipment(workCenterId)?.parentId : undefined
        line = wcLine ? this.#path(wcLine) : undefined
      }
      if (!line) continue
      if (orderId) orders.add(orderId)
      const body = JSON.stringify({ seq: e.seq, id: e.id, type: e.type, subject: e.subject, actor: e.actor, occurredAt: e.occurredAt, data: e.data })
      this.#send(`${line}/events/${e.type}`, body, false)
      if (e.type === 'WorkCenterStateChanged') {
        this.#send(`${line}/${topicLevel(e.data.workCenterId)}/state`, JSON.stringify({ state: e.data.state, since: e.occurredAt, source: e.data.source }), true)
      }
      const run = e.data as { runId?: unknown; workCenterId?: unknown }
      if (typeof run.runId === 'string') {
        let wc = typeof run.workCenterId === 'string' ? run.workCenterId : runCenters.get(run.runId)
        if (wc === undefined) wc = this.#view.run(run.runId)?.workCenterId
        if (wc !== undefined) runCenters.set(run.runId, wc)
        // One retained topic per work center, not per run: the retained set stays as small as the line.
        if (wc) runTopics.set(`${line}/${topicLevel(wc)}/run`, body)
      }
    }
    for (const [topic, body] of runTopics) this.#send(topic, body, true)
    for (const orderId of orders) this.#dirtyOrders.add(orderId)
    if (this.#dirtyOrders.size > 0 && this.#stateTimer === null) {
      this.#stateTimer = setTimeout(() => this.flushStates(), this.#stateDelayMs)
      this.#stateTimer.unref()
    }
  }

  /** Publishes the retained state of every order changed since the last flush. */
  flushStates(): void {
    if (this.#stateTimer) clearTimeout(this.#stateTimer)
    this.#stateTimer = null
    const orders = [...this.#dirtyOrders]
    this.#dirtyOrders.clear()
    for (const orderId of orders) {
      const order = this.#view.order(orderId)
      const line = order && this.#path(order.lineId)
      if (!order || !line) continue
      const topic = `${line}/orders/${topicLevel(orderId)}/state`
      // A closed or cancelled order leaves the namespace: an empty retained message clears its topic (MQTT-3.3.1-10).
      if (order.state === 'closed' || order.state === 'cancelled') this.#send(topic, '', true)
      else this.#send(topic, JSON.stringify(this.#queries.wipOfOrder(order, this.#now())), true)
    }
  }

  stop(): void {
    if (this.#stateTimer) clearTimeout(this.#stateTimer)
    this.#stateTimer = null
  }

  /** Equipment paths, cached: the hierarchy changes only with an EquipmentDefined event. */
  #path(equipmentId: string): string | undefined {
    if (!this.#paths.has(equipmentId)) this.#paths.set(equipmentId, equipmentPath(this.#view, equipmentId))
    return this.#paths.get(equipmentId)
  }

  #send(topic: string, payload: string, retain: boolean): void {
    this.#sink.publish(topic, payload, { qos: 1, retain }).catch(this.#onError)
  }
}
