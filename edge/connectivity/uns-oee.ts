// Each work center's live OEE on its UNS topic: republished when it changes, at most once per throttle interval.
import type { RecordedEvent } from '../core/events.ts'
import type { LineView } from '../core/line-view.ts'
import type { Sqlite } from '../store/database.ts'
import { OeeQueries } from '../store/oee-queries.ts'
import { equipmentPath, topicLevel, type UnsSink } from './uns.ts'

/** Events after which a work center's live OEE may differ. */
const perWorkCenter = new Set<RecordedEvent['type']>(['WorkCenterStateChanged', 'MachineCounted', 'DowntimeEdited', 'MicroStopThresholdSet'])
/** Events after which any work center's may (a calendar, its assignment, the reason tree, the hierarchy). */
const lineWide = new Set<RecordedEvent['type']>(['ShiftCalendarDefined', 'ShiftCalendarAssigned', 'ReasonCodesDefined', 'EquipmentDefined'])

export interface OeeUnsOptions {
  /** Least time between two publications (a machine may change state many times a second). */
  throttleMs?: number
  /** Time runs on with no event (a stop going on): every work center is looked at again this often. */
  refreshMs?: number
}

/**
 * Topic `{site}/{area}/{line}/{workCenter}/oee`, QoS 1, retained: the live OEE of the current shift
 * (GET /api/v1/work-centers/{id}/oee/current). Computed after the commit, never inside it.
 */
export class OeeUnsPublisher {
  readonly #sink: UnsSink
  readonly #view: LineView
  readonly #queries: OeeQueries
  readonly #workCenters
  readonly #now: () => Date
  readonly #onError: (error: unknown) => void
  readonly #throttleMs: number
  readonly #refreshMs: number
  readonly #dirty = new Set<string>()
  /** What was last published per work center, without its time: the same figures are not sent again. */
  readonly #last = new Map<string, string>()
  #lastFlush = -Infinity
  #timer: NodeJS.Timeout | null = null
  #refresh: NodeJS.Timeout | null = null
  #stopped = false

  constructor(sink: UnsSink, view: LineView, sqlite: Sqlite, now: () => Date, onError: (error: unknown) => void, options: OeeUnsOptions = {}) {
    this.#sink = sink
    this.#view = view
    this.#queries = new OeeQueries(sqlite)
    this.#workCenters = sqlite.prepare<[], { id: string }>(`SELECT id FROM equipment WHERE level = 'work_center' ORDER BY id`)
    this.#now = now
    this.#onError = onError
    this.#throttleMs = options.throttleMs ?? 1000
    this.#refreshMs = options.refreshMs ?? 60_000
    this.#scheduleRefresh()
  }

  /** Notes the work centers a commit touched; publishes at once if the last publication is old enough, else when it is. */
  publishRecorded(events: readonly RecordedEvent[]): void {
    for (const e of events) {
      if (perWorkCenter.has(e.type)) this.#dirty.add((e.data as { workCenterId: string }).workCenterId)
      else if (lineWide.has(e.type)) this.#markAll()
    }
    this.#schedule()
  }

  #markAll(): void {
    for (const { id } of this.#workCenters.all()) this.#dirty.add(id)
  }

  #schedule(): void {
    if (this.#dirty.size === 0 || this.#timer !== null || this.#stopped) return
    const wait = Math.max(0, this.#lastFlush + this.#throttleMs - this.#now().getTime())
    this.#timer = setTimeout(() => this.flush(), wait)
    this.#timer.unref()
  }

  #scheduleRefresh(): void {
    if (this.#stopped) return
    this.#refresh = setTimeout(() => {
      this.#markAll()
      this.#schedule()
      this.#scheduleRefresh()
    }, this.#refreshMs)
    this.#refresh.unref()
  }

  /** Publishes the live OEE of every work center marked since the last flush, where it changed. */
  flush(): void {
    if (this.#timer) clearTimeout(this.#timer)
    this.#timer = null
    const now = this.#now().getTime()
    this.#lastFlush = now
    const ids = [...this.#dirty]
    this.#dirty.clear()
    for (const id of ids) {
      try {
        const wc = this.#queries.workCenter(id)
        const path = wc?.lineId ? equipmentPath(this.#view, wc.lineId) : undefined
        if (!wc || !path) continue
        const live = this.#queries.current(wc, now)
        const figures = JSON.stringify(live)
        if (this.#last.get(id) === figures) continue
        this.#last.set(id, figures)
        const payload = JSON.stringify({ workCenterId: id, at: new Date(now).toISOString(), ...live })
        this.#sink.publish(`${path}/${topicLevel(id)}/oee`, payload, { qos: 1, retain: true }).catch(this.#onError)
      } catch (error) {
        this.#onError(error)
      }
    }
  }

  stop(): void {
    this.#stopped = true
    if (this.#timer) clearTimeout(this.#timer)
    if (this.#refresh) clearTimeout(this.#refresh)
    this.#timer = null
    this.#refresh = null
  }
}
