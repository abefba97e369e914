// The line's metrics for the Sparkplug edge node: each work center's state and machine counts, and the event log's head, kept from the recorded events.
import type { RecordedEvent } from '../core/events.ts'
import type { EdgeNodeMetric } from './sparkplug/index.ts'
import type { Sqlite } from '../store/database.ts'

/** Current values at start, from the projections, so that the first NBIRTH is complete. */
export function lineMetricsNow(sqlite: Sqlite): EdgeNodeMetric[] {
  const states = sqlite.prepare('SELECT work_center_id AS wc, state FROM work_center_states').all() as Array<{ wc: string; state: string }>
  const counts = sqlite.prepare('SELECT work_center_id AS wc, SUM(good) AS good, SUM(reject) AS reject FROM machine_counts GROUP BY work_center_id').all() as Array<{ wc: string; good: number; reject: number }>
  const head = sqlite.prepare('SELECT MAX(seq) AS seq FROM events').get() as { seq: number | null }
  return [
    ...states.map((s) => ({ name: `${s.wc}/State`, value: s.state, datatype: 'String' as const })),
    ...counts.flatMap((c) => [
      { name: `${c.wc}/GoodCount`, value: BigInt(Math.round(c.good)), datatype: 'Int64' as const },
      { name: `${c.wc}/RejectCount`, value: BigInt(Math.round(c.reject)), datatype: 'Int64' as const },
    ]),
    { name: 'Gateway/EventSeq', value: BigInt(head.seq ?? 0), datatype: 'Int64' as const },
  ]
}

/** Keeps the running totals and turns each commit's events into metric updates. */
export class LineMetrics {
  readonly #totals = new Map<string, { good: number; reject: number }>()

  constructor(initial: EdgeNodeMetric[]) {
    for (const m of initial) {
      const match = /^(.+)\/(GoodCount|RejectCount)$/.exec(m.name)
      if (!match) continue
      const t = this.#totals.get(match[1]!) ?? { good: 0, reject: 0 }
      t[match[2] === 'GoodCount' ? 'good' : 'reject'] = Number(m.value)
      this.#totals.set(match[1]!, t)
    }
  }

  updates(events: RecordedEvent[]): EdgeNodeMetric[] {
    const out: EdgeNodeMetric[] = []
    for (const e of events) {
      const timestamp = Date.parse(e.occurredAt)
      if (e.type === 'WorkCenterStateChanged') out.push({ name: `${e.data.workCenterId}/State`, value: e.data.state, datatype: 'String', timestamp })
      if (e.type === 'MachineCounted') {
        const t = this.#totals.get(e.data.workCenterId) ?? { good: 0, reject: 0 }
        t.good += e.data.good
        t.reject += e.data.reject
        this.#totals.set(e.data.workCenterId, t)
        out.push({ name: `${e.data.workCenterId}/GoodCount`, value: BigInt(Math.round(t.good)), datatype: 'Int64', timestamp }, { name: `${e.data.workCenterId}/RejectCount`, value: BigInt(Math.round(t.reject)), datatype: 'Int64', timestamp })
      }
    }
    const last = events.at(-1)
    if (last) out.push({ name: 'Gateway/EventSeq', value: BigInt(last.seq), datatype: 'Int64', timestamp: Date.parse(last.recordedAt) })
    return out
  }
}
