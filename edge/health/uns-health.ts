// The gateway's health on the Unified Namespace: `{site}/{area}/{line}/_gateway/health`, QoS 1, retained, for every line of this gateway.
import type { LineView } from '../core/line-view.ts'
import type { Sqlite } from '../store/database.ts'
import { equipmentPath, type UnsSink } from '../connectivity/uns.ts'

/** The topic level under a line: `_` keeps it apart from any work center id a line could define. */
export const healthLevel = '_gateway/health'

export interface HealthUnsOptions {
  /** How often the retained health is published again, ms. */
  intervalMs: number
}

/**
 * Publishes `body()` (what GET /health answers) on each line's health topic, every interval and
 * whenever `publishNow()` is called (the disk guard changed state). Retained: a dashboard that
 * subscribes later sees the last health at once. Lines come from the equipment hierarchy; a
 * gateway with no line defined yet publishes nothing.
 */
export class HealthUnsPublisher {
  readonly #sink: UnsSink
  readonly #view: LineView
  readonly #lines
  readonly #body: () => unknown
  readonly #onError: (error: unknown) => void
  readonly #intervalMs: number
  #timer: NodeJS.Timeout | null = null

  constructor(sink: UnsSink, view: LineView, sqlite: Sqlite, body: () => unknown, onError: (error: unknown) => void, options: HealthUnsOptions) {
    this.#sink = sink
    this.#view = view
    this.#lines = sqlite.prepare<[], { id: string }>(`SELECT id FROM equipment WHERE level = 'line' ORDER BY id`)
    this.#body = body
    this.#onError = onError
    this.#intervalMs = options.intervalMs
  }

  /** The topics health goes to now. */
  topics(): string[] {
    return this.#lines
      .all()
      .map((l) => equipmentPath(this.#view, l.id))
      .filter((p): p is string => p !== undefined)
      .map((p) => `${p}/${healthLevel}`)
  }

  start(): void {
    if (this.#timer) return
    this.publishNow()
    this.#timer = setInterval(() => this.publishNow(), this.#intervalMs).unref()
  }

  publishNow(): void {
    let payload: string
    let topics: string[]
    try {
      payload = JSON.stringify(this.#body())
      topics = this.topics()
    } catch (error) {
      this.#onError(error)
      return
    }
    for (const topic of topics) this.#sink.publish(topic, payload, { qos: 1, retain: true }).catch(this.#onError)
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer)
    this.#timer = null
  }
}
