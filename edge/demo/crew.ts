// The demo's line crew: a lead who releases and dispatches the orders that arrive, and an operator at each routed work center who works its dispatch list — all through the gateway's HTTP API, as at the HMI.
import type { Logger } from 'pino'

export interface Station {
  workCenterId: string
  opSeq: number
  /** The operator's badge and PIN, as scanned at the terminal. */
  badgeId: string
  pin: string
  /** The machine's mean cycle, model seconds: the operator books a part about as often as the machine makes one. */
  cycleS: number
  /** Chance that a part is scrapped (booked with a reason), 0 to 1. */
  scrapRate: number
}

export interface CrewOptions {
  baseUrl: string
  stations: Station[]
  lead: { username: string; password: string }
  /** Model seconds per wall second (the simulation's time scale). */
  speed: number
  /** How many orders the lead keeps dispatched at once. */
  inFlight?: number
  /** Called when nothing is left to release and the line is about to run dry. */
  onRunningLow?: () => Promise<void>
  random?: () => number
  log: Logger
}

type Json = Record<string, unknown>
type Reply = { status: number; body: Json }

class Stopped extends Error {}

/** Measurements inside the operation's limits, as a capable process gives them. */
function measure(spec: { name: string; unit: string; lower: number | null; upper: number | null }, random: () => number): { name: string; value: number; unit: string } {
  const { lower, upper } = spec
  const mid = lower !== null && upper !== null ? (lower + upper) / 2 : lower !== null ? lower * 1.2 : upper !== null ? upper * 0.4 : 1
  const half = lower !== null && upper !== null ? (upper - lower) / 2 : Math.abs(mid) * 0.5
  const value = mid + (random() - 0.5) * half
  return { name: spec.name, value: Number(value.toPrecision(4)), unit: spec.unit }
}

/** A logged-in person's view of the API: re-logs in when the session ended (idle timeout). */
class Session {
  readonly #baseUrl: string
  readonly #login: () => { path: string; body: Json }
  readonly #signal: AbortSignal
  #token: string | null = null

  constructor(baseUrl: string, login: () => { path: string; body: Json }, signal: AbortSignal) {
    this.#baseUrl = baseUrl
    this.#login = login
    this.#signal = signal
  }

  async #raw(method: string, path: string, body: unknown, token: string | null): Promise<Reply> {
    if (this.#signal.aborted) throw new Stopped()
    let res: Response
    try {
      res = await fetch(`${this.#baseUrl}${path}`, {
        method,
        headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: this.#signal,
      })
    } catch (error) {
      if (this.#signal.aborted) throw new Stopped()
      throw error
    }
    const text = await res.text()
    return { status: res.status, body: text ? (JSON.parse(text) as Json) : {} }
  }

  async call(method: string, path: string, body?: unknown): Promise<Reply> {
    if (this.#token === null) await this.#open()
    let reply = await this.#raw(method, path, body, this.#token)
    if (reply.status === 401) {
      await this.#open()
      reply = await this.#raw(method, path, body, this.#token)
    }
    return reply
  }

  async #open(): Promise<void> {
    const { path, body } = this.#login()
    const reply = await this.#raw('POST', path, body, null)
    if (reply.status !== 200 || typeof reply.body.token !== 'string') throw new Error(`login at ${path} refused: ${reply.status} ${String(reply.body.code ?? '')}`)
    this.#token = reply.body.token
  }
}

interface OpenRun {
  runId: string
  orderId: string
  unitSerial: string | null
}

export class LineCrew {
  readonly #o: Required<Omit<CrewOptions, 'onRunningLow'>> & Pick<CrewOptions, 'onRunningLow'>
  readonly #abort = new AbortController()
  readonly #loops: Array<Promise<void>> = []
  /** Per station: the units of each order it has finished with (done, scrapped). */
  readonly #finished = new Map<string, Map<string, Set<string>>>()
  #lots: { at: number; items: Json[] } = { at: 0, items: [] }
  /** Parts booked by each station since the start: what a soak run watches. */
  readonly booked = new Map<string, number>()

  constructor(options: CrewOptions) {
    this.#o = { inFlight: 3, random: Math.random, ...options }
  }

  start(): void {
    const signal = this.#abort.signal
    const lead = new Session(this.#o.baseUrl, () => ({ path: '/api/v1/auth/login', body: { username: this.#o.lead.username, password: this.#o.lead.password } }), signal)
    this.#loops.push(this.#loop('lead', () => this.#leadRound(lead), 5))
    for (const s of this.#o.stations) {
      const operator = new Session(this.#o.baseUrl, () => ({ path: '/api/v1/auth/badge', body: { badgeId: s.badgeId, pin: s.pin } }), signal)
      this.#finished.set(s.workCenterId, new Map())
      this.#loops.push(this.#loop(s.workCenterId, () => this.#stationRound(operator, s), 2))
    }
  }

  async stop(): Promise<void> {
    this.#abort.abort()
    await Promise.allSettled(this.#loops)
  }

  /** Wall milliseconds for model seconds; never under 20 ms so that a fast soak still yields. */
  #wall(modelS: number): number {
    return Math.max(20, (modelS * 1000) / this.#o.speed)
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((done) => {
      if (this.#abort.signal.aborted) return done()
      const timer = setTimeout(done, ms)
      this.#abort.signal.addEventListener('abort', () => {
        clearTimeout(timer)
        done()
      }, { once: true })
    })
  }

  /** One worker's loop: a round, then a pause when there was nothing to do; an error is logged once per kind and retried. */
  async #loop(name: string, round: () => Promise<boolean>, idleModelS: number): Promise<void> {
    let lastError = ''
    while (!this.#abort.signal.aborted) {
      let busy = false
      try {
        busy = await round()
        lastError = ''
      } catch (error) {
        if (error instanceof Stopped || this.#abort.signal.aborted) return
        const message = error instanceof Error ? error.message : String(error)
        if (message !== lastError) this.#o.log.warn({ worker: name, err: message }, 'demo crew: retrying after an error')
        lastError = message
        await this.#sleep(1000)
      }
      // Nothing to do: look again soon, but not so often at a raised speed that looking loads the gateway.
      if (!busy) await this.#sleep(Math.min(Math.max(this.#wall(idleModelS), 250), 2000))
    }
  }

  /** The lead: releases and dispatches the next orders by due date, keeping a few in flight. */
  async #leadRound(lead: Session): Promise<boolean> {
    const list = async (state: string) => ((await lead.call('GET', `/api/v1/orders?state=${state}&limit=1000`)).body.items ?? []) as Json[]
    const working = (await list('dispatched')).length + (await list('in_progress')).length
    let room = this.#o.inFlight - working
    if (room <= 0) return false
    const byDue = (a: Json, b: Json) => String(a.dueAt ?? '').localeCompare(String(b.dueAt ?? '')) || String(a.id).localeCompare(String(b.id))
    for (const order of (await list('released')).sort(byDue)) {
      if (room-- <= 0) return true
      await this.#transition(lead, String(order.id), 'dispatch')
    }
    const created = (await list('created')).sort(byDue)
    if (created.length === 0 && room > 0 && this.#o.onRunningLow) await this.#o.onRunningLow()
    for (const order of created) {
      if (room-- <= 0) return true
      if (await this.#transition(lead, String(order.id), 'release')) await this.#transition(lead, String(order.id), 'dispatch')
    }
    return false
  }

  async #transition(lead: Session, orderId: string, name: 'release' | 'dispatch'): Promise<boolean> {
    const reply = await lead.call('POST', `/api/v1/orders/${encodeURIComponent(orderId)}/${name}`)
    if (reply.status === 200) this.#o.log.info({ orderId }, `demo crew: order ${name === 'release' ? 'released' : 'dispatched'}`)
    return reply.status === 200
  }

  /** One operator round: finish the run in hand, or start the next unit on the dispatch list. */
  async #stationRound(op: Session, s: Station): Promise<boolean> {
    const andon = ((await op.call('GET', '/api/v1/hmi/andon')).body.items ?? []) as Json[]
    const here = andon.find((i) => i.workCenterId === s.workCenterId)
    const mine = ((here?.runs ?? []) as Json[]).find((r) => r.state === 'running' && r.opSeq === s.opSeq)
    const run: OpenRun | null = mine ? { runId: String(mine.runId), orderId: String(mine.orderId), unitSerial: (mine.unitSerial as string | null) ?? null } : await this.#startNext(op, s)
    if (!run) return false
    await this.#work(op, s, run)
    return true
  }

  async #startNext(op: Session, s: Station): Promise<OpenRun | null> {
    const finished = this.#finished.get(s.workCenterId)!
    const items = ((await op.call('GET', `/api/v1/work-centers/${s.workCenterId}/dispatch-list`)).body.items ?? []) as Json[]
    for (const item of items) {
      if (item.opSeq !== s.opSeq || (item.orderState !== 'dispatched' && item.orderState !== 'in_progress')) continue
      const orderId = String(item.orderId)
      const detail = await op.call('GET', `/api/v1/orders/${encodeURIComponent(orderId)}`)
      const units = ((detail.body.units ?? []) as Json[]).filter((u) => u.state !== 'scrapped' && u.held !== true)
      const done = finished.get(orderId) ?? new Set<string>()
      finished.set(orderId, done)
      for (const unit of units) {
        const serial = String(unit.serial)
        if (done.has(serial)) continue
        const started = await op.call('POST', `/api/v1/orders/${encodeURIComponent(orderId)}/operations/${s.opSeq}/start`, { unit: serial, workCenterId: s.workCenterId })
        if (started.status === 201) return { runId: String(started.body.runId), orderId, unitSerial: serial }
        const code = String(started.body.code ?? '')
        if (code === 'operation_done' || code === 'unit_scrapped') done.add(serial)
        // The previous operation has not reached this unit yet: nor the ones after it.
        else if (code === 'out_of_sequence') break
        else if (code !== 'unit_busy' && code !== 'unit_on_hold') {
          this.#o.log.warn({ workCenterId: s.workCenterId, orderId, serial, status: started.status, code }, 'demo crew: start refused')
          break
        }
      }
    }
    return null
  }

  /** Scans the lots the operation takes, measures, and books the part once the machine has made it. */
  async #work(op: Session, s: Station, run: OpenRun): Promise<void> {
    const detail = (await op.call('GET', `/api/v1/hmi/runs/${run.runId}`)).body
    const operation = (detail.operation ?? {}) as { components?: Array<{ materialId: string; quantityPer: number }>; alternates?: Record<string, string[]>; measurements?: Array<{ name: string; unit: string; lower: number | null; upper: number | null }> }
    const booked = new Set(((detail.consumptions ?? []) as Json[]).map((c) => String(c.materialId)))
    const measured = new Set(((detail.measurements ?? []) as Json[]).map((m) => String(m.name)))
    for (const c of operation.components ?? []) {
      if (booked.has(c.materialId) || (operation.alternates?.[c.materialId] ?? []).some((m) => booked.has(m))) continue
      const lot = await this.#lotFor(op, [c.materialId, ...(operation.alternates?.[c.materialId] ?? [])], c.quantityPer)
      if (!lot) throw new Error(`no released lot of ${c.materialId} with ${c.quantityPer} on hand for ${s.workCenterId}`)
      const scan = await op.call('POST', `/api/v1/runs/${run.runId}/consumptions`, { lot, quantity: c.quantityPer })
      if (scan.status !== 201) {
        this.#lots.at = 0
        throw new Error(`lot ${lot} refused at ${s.workCenterId}: ${String(scan.body.code ?? scan.status)}`)
      }
    }
    // The operator's cycle: about the machine's, and held while the machine is stopped.
    await this.#sleep(this.#wall(s.cycleS * (0.9 + this.#o.random() * 0.2)))
    while (!this.#abort.signal.aborted && ['down', 'setup', 'planned_stop'].includes(await this.#machineState(op, s.workCenterId))) await this.#sleep(this.#wall(10))
    if (this.#abort.signal.aborted) throw new Stopped()
    for (const m of operation.measurements ?? []) {
      if (measured.has(m.name)) continue
      const done = await op.call('POST', `/api/v1/runs/${run.runId}/measurements`, measure(m, this.#o.random))
      if (done.status !== 201) throw new Error(`measurement ${m.name} refused at ${s.workCenterId}: ${String(done.body.code ?? done.status)}`)
    }
    const scrap = this.#o.random() < s.scrapRate
    const body = scrap ? { good: 0, scrap: 1, scrapReasons: [{ reason: 'reject.visual', quantity: 1 }] } : { good: 1 }
    const completed = await op.call('POST', `/api/v1/runs/${run.runId}/complete`, body)
    if (completed.status !== 200) throw new Error(`completion refused at ${s.workCenterId}: ${String(completed.body.code ?? completed.status)} ${String(completed.body.detail ?? '')}`)
    if (run.unitSerial) this.#finished.get(s.workCenterId)?.get(run.orderId)?.add(run.unitSerial)
    this.booked.set(s.workCenterId, (this.booked.get(s.workCenterId) ?? 0) + 1)
    if (completed.body.orderCompleted === true) this.#o.log.info({ orderId: run.orderId }, 'demo crew: order completed')
    // Orders this station has finished leave its memory.
    const finished = this.#finished.get(s.workCenterId)!
    if (finished.size > 20) for (const id of [...finished.keys()].slice(0, finished.size - 20)) finished.delete(id)
  }

  async #machineState(op: Session, workCenterId: string): Promise<string> {
    const andon = ((await op.call('GET', '/api/v1/hmi/andon')).body.items ?? []) as Json[]
    return String(andon.find((i) => i.workCenterId === workCenterId)?.state ?? 'running')
  }

  /** First expiry first: the released, unexpired lot of an accepted material that expires soonest and has enough left. */
  async #lotFor(op: Session, materials: string[], quantity: number): Promise<string | null> {
    if (Date.now() - this.#lots.at > 30_000) this.#lots = { at: Date.now(), items: ((await op.call('GET', '/api/v1/lots')).body.items ?? []) as Json[] }
    const now = Date.now()
    const usable = this.#lots.items
      .filter((l) => materials.includes(String(l.materialId)) && l.status === 'released' && Number(l.quantity) >= quantity && (l.expiresAt === null || Date.parse(String(l.expiresAt)) > now))
      .sort((a, b) => String(a.expiresAt ?? '9999').localeCompare(String(b.expiresAt ?? '9999')))
    const lot = usable[0]
    if (!lot) return null
    // Booked here, so the cached quantity follows what the operator takes.
    lot.quantity = Number(lot.quantity) - quantity
    return String(lot.id)
  }
}
