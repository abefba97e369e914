// The pushes of each gateway this process is answering: one that finds a gap waits for the gateway's other pushes still at work, so pipelined pushes apply in seq order.

/** One push, from its arrival until its answer. */
export interface OpenPush {
  readonly gatewayId: string
  /** True while it waits for the others after finding a gap; a waiting push is not waited for. */
  waiting: boolean
  done(): void
}

interface Gateway {
  pushes: Set<OpenPush>
  /** Resolved, and replaced, whenever one of the gateway's pushes is answered or starts to wait. */
  changed: Promise<void>
  notify: () => void
}

/**
 * A pusher keeps two pushes on the wire; the later one can reach the database first (its
 * connection or body is read first) and would be answered with a gap. Such a push waits until the
 * same gateway's other pushes still at work are answered, then tries again; when none is at work,
 * the gap is real and answered. Pushes waiting this way are not waited for, so two of them never
 * wait for each other. Only this process's pushes are known: behind several cloud replicas an
 * overtaking push is answered with the gap, and the pusher sends again from the head.
 */
export class OpenPushes {
  readonly #gateways = new Map<string, Gateway>()

  open(gatewayId: string): OpenPush {
    let g = this.#gateways.get(gatewayId)
    if (!g) this.#gateways.set(gatewayId, (g = this.#entry()))
    const gateway = g
    const push: OpenPush = {
      gatewayId,
      waiting: false,
      done: () => {
        if (!gateway.pushes.delete(push)) return
        if (gateway.pushes.size === 0 && this.#gateways.get(gatewayId) === gateway) this.#gateways.delete(gatewayId)
        this.#changed(gateway)
      },
    }
    gateway.pushes.add(push)
    return push
  }

  /** Waits until one of the gateway's other pushes at work is answered or waits itself; false when none is at work. */
  async othersAtWork(push: OpenPush): Promise<boolean> {
    const g = this.#gateways.get(push.gatewayId)
    if (!g) return false
    // Told to the others first: one of them may be waiting for this push.
    push.waiting = true
    this.#changed(g)
    if (![...g.pushes].some((p) => p !== push && !p.waiting)) {
      push.waiting = false
      return false
    }
    await g.changed
    push.waiting = false
    return true
  }

  /** Pushes not yet answered, for tests. */
  get size(): number {
    let n = 0
    for (const g of this.#gateways.values()) n += g.pushes.size
    return n
  }

  #entry(): Gateway {
    let notify!: () => void
    const changed = new Promise<void>((resolve) => (notify = resolve))
    return { pushes: new Set(), changed, notify }
  }

  #changed(g: Gateway): void {
    const fire = g.notify
    const next = this.#entry()
    g.changed = next.changed
    g.notify = next.notify
    fire()
  }
}
