// A simulated OPC UA machine: the device image on a profile server, behind a TCP relay where the network and PLC faults are made.
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net'
import type { HardwareProfile } from '../../hardware-profiles/schema.ts'
import type { DeviceImage, MachineAdapter } from '../runner.ts'
import type { Fault, ScenarioMachine } from '../scenario.ts'
import { ProfileServer, type OpcUaProfile, type SignalValue } from './profile-server.ts'

export interface OpcUaMachineOptions {
  /** The machine's own PKI folder (one per machine: its certificate and private key live there). */
  pkiDir: string
  /** Where it listens and what its endpoint URL names; default 127.0.0.1. */
  host?: string
  /** When given, only these users may open a session. */
  users?: Array<{ username: string; password: string }>
}

/** One client connection through the relay: the client's socket, the one to the server, and bytes held back for it. */
interface Link {
  client: Socket
  server: Socket
  held: Array<{ due: number; chunk: Buffer }>
  timer: NodeJS.Timeout | null
}

/**
 * The machine's wire: a TCP relay in front of its OPC UA server. Faults act where a network or a
 * hung PLC would — connections reset, bytes no longer read, bytes held back — underneath every
 * service (secure channel, session, publish), so a client sees what it would see in a plant.
 */
export class Wire {
  readonly #links = new Set<Link>()
  #listener: Server | null = null
  #upstream = 0
  #frozen = false
  #delayMs = 0
  /** New connections are reset as soon as they are accepted. */
  refusing = false

  /** Listens on host:port (0: a free port); bytes go on to 127.0.0.1:upstream once that is set. */
  async listen(host: string, port: number): Promise<number> {
    const listener = createServer((socket) => this.#accept(socket))
    await new Promise<void>((resolve, reject) => {
      listener.once('error', reject)
      listener.listen(port, host, () => resolve())
    })
    this.#listener = listener
    return (listener.address() as AddressInfo).port
  }

  set upstream(port: number) {
    this.#upstream = port
  }

  /** Every server answer, keep-alive and publish response is held this long, in order. */
  set delayMs(ms: number) {
    this.#delayMs = ms
  }

  /** Frozen: nothing is read either way and nothing held is sent, sockets stay open — a PLC that hangs. */
  freeze(on: boolean): void {
    if (on === this.#frozen) return
    this.#frozen = on
    for (const link of this.#links) {
      if (on) {
        link.client.pause()
        link.server.pause()
      } else {
        link.client.resume()
        link.server.resume()
        this.#release(link)
      }
    }
  }

  /** Resets every connection (TCP RST), as a switch port going down or a PLC rebooting does. */
  reset(): void {
    for (const link of [...this.#links]) {
      link.client.resetAndDestroy()
      link.server.destroy()
    }
  }

  async close(): Promise<void> {
    this.reset()
    const listener = this.#listener
    this.#listener = null
    if (listener) await new Promise<void>((resolve) => listener.close(() => resolve()))
  }

  #accept(client: Socket): void {
    if (this.refusing || this.#upstream === 0) return void client.resetAndDestroy()
    const server = connect({ host: '127.0.0.1', port: this.#upstream })
    const link: Link = { client, server, held: [], timer: null }
    this.#links.add(link)
    client.setNoDelay(true)
    server.setNoDelay(true)
    const end = () => {
      if (!this.#links.delete(link)) return
      if (link.timer) clearTimeout(link.timer)
      client.destroy()
      server.destroy()
    }
    for (const socket of [client, server]) socket.on('error', end).on('close', end)
    client.on('data', (chunk: Buffer) => this.#send(server, client, chunk))
    server.on('data', (chunk: Buffer) => this.#answer(link, chunk))
    if (this.#frozen) {
      client.pause()
      server.pause()
    }
  }

  /** Writes with backpressure: the side that reads waits while the side that writes drains. */
  #send(to: Socket, from: Socket, chunk: Buffer): void {
    if (to.write(chunk)) return
    from.pause()
    to.once('drain', () => this.#frozen || from.resume())
  }

  #answer(link: Link, chunk: Buffer): void {
    if (this.#delayMs === 0 && link.held.length === 0) return this.#send(link.client, link.server, chunk)
    // Never before what is already held: the stream keeps its order when the delay changes.
    link.held.push({ due: Math.max(Date.now() + this.#delayMs, link.held.at(-1)?.due ?? 0), chunk })
    this.#release(link)
  }

  #release(link: Link): void {
    if (link.timer || this.#frozen || link.held.length === 0) return
    link.timer = setTimeout(() => {
      link.timer = null
      if (this.#frozen) return
      for (const now = Date.now(); link.held.length > 0 && link.held[0]!.due <= now; ) this.#send(link.client, link.server, link.held.shift()!.chunk)
      this.#release(link)
    }, Math.max(0, link.held[0]!.due - Date.now()))
  }
}

/**
 * The EURange of a Double signal (OPC 10000-8 5.3.2), around the value the scenario makes it (the
 * speed and cycle-time rules are device-image.ts's), so a percent deadband means something.
 */
function rangeOf(signal: OpcUaProfile['signals'][number], m: ScenarioMachine): { low: number; high: number } | undefined {
  let nominal: number
  let sd = 0
  const measurement = m.measurements.find((x) => x.name === signal.name)
  if (signal.kind === 'measurement' && measurement) ({ mean: nominal, sd } = measurement)
  else if (signal.kind === 'value' && /speed/i.test(signal.name)) nominal = 60 / m.cycleTime.mean
  else if (signal.kind === 'value' && /cycle/i.test(signal.name)) ({ mean: nominal, sd } = m.cycleTime)
  else return undefined
  const half = Math.max(Math.abs(nominal), 10 * sd, 1)
  return { low: nominal - half, high: nominal + half }
}

const wireFaults = new Set<Fault['fault']>(['drop_connections', 'stop_answering', 'slow', 'opcua_bad_status', 'clock_skew'])

export class OpcUaMachine implements MachineAdapter {
  readonly #machine: ScenarioMachine
  readonly #profile: OpcUaProfile
  readonly #options: OpcUaMachineOptions
  readonly #wire = new Wire()
  #server: ProfileServer | null = null
  #image: DeviceImage = new Map()
  /** What each signal was last set to, so only changes reach the server (and its monitored items). */
  readonly #sent = new Map<string, SignalValue>()
  /** Protocol faults that are on, oldest first. */
  #active: Fault[] = []
  #skewMs = 0

  constructor(machine: ScenarioMachine, profile: HardwareProfile, options: OpcUaMachineOptions) {
    if (!machine.opcua || profile.protocol !== 'opcua') throw new Error(`machine '${machine.name}' is not an OPC UA machine`)
    this.#machine = machine
    this.#profile = profile
    this.#options = options
  }

  /** The server's certificate (PEM), for a client to trust; it exists once start() has resolved. */
  get certificateFile(): string {
    return this.#server?.certificateFile ?? ''
  }

  /** The profile server behind the wire, for tests that look at the server side. */
  get server(): ProfileServer | null {
    return this.#server
  }

  async start(): Promise<string> {
    const host = this.#options.host ?? '127.0.0.1'
    const port = await this.#wire.listen(host, this.#machine.opcua!.port)
    const endpoint = `opc.tcp://${host}:${port}`
    const ranges = Object.fromEntries(this.#profile.signals.flatMap((s) => (rangeOf(s, this.#machine) ? [[s.name, rangeOf(s, this.#machine)!]] : [])))
    // The server listens on loopback only: clients reach it through the wire, by the URL it advertises.
    const server = new ProfileServer({ profile: this.#profile, port: 0, host: '127.0.0.1', pkiDir: this.#options.pkiDir, ranges, advertisedEndpoint: endpoint, ...(this.#options.users ? { users: this.#options.users } : {}) })
    try {
      await server.start()
    } catch (error) {
      await this.#wire.close()
      throw error
    }
    this.#server = server
    this.#wire.upstream = server.port
    this.update(this.#image)
    return endpoint
  }

  update(image: DeviceImage): void {
    this.#image = image
    const server = this.#server
    if (!server) return
    const sourceTimestamp = Date.now() + this.#skewMs
    for (const s of this.#profile.signals) {
      const value = image.get(s.name)
      if (value === undefined || this.#sent.get(s.name) === value || this.#statusOf(s.name) !== null) continue
      server.set(s.name, value, { sourceTimestamp })
      this.#sent.set(s.name, value)
    }
  }

  fault(f: Fault, on: boolean): void {
    if (!wireFaults.has(f.fault)) return
    if (on && f.fault === 'opcua_bad_status' && f.signal !== undefined && !this.#profile.signals.some((s) => s.name === f.signal)) {
      throw new Error(`machine '${this.#machine.name}': its profile ${this.#profile.profile} has no signal '${f.signal}'`)
    }
    const before = f.fault === 'opcua_bad_status' ? this.#profile.signals.map((s) => this.#statusOf(s.name)) : []
    this.#active = on ? [...this.#active, f] : this.#active.filter((a) => a !== f)
    const active = (kind: Fault['fault']) => this.#active.filter((a) => a.fault === kind)
    this.#wire.refusing = active('drop_connections').length > 0
    this.#wire.freeze(active('stop_answering').length > 0)
    this.#wire.delayMs = Math.max(0, ...active('slow').map((a) => a.delayMs ?? 0))
    this.#skewMs = active('clock_skew').at(-1)?.skewMs ?? 0
    if (on && f.fault === 'drop_connections') {
      // OPC 10000-4 5.6: closing the sessions deletes their subscriptions, as a restarted server has none.
      this.#server?.dropClients()
      this.#wire.reset()
    }
    if (f.fault === 'opcua_bad_status') this.#restatus(before)
  }

  async stop(): Promise<void> {
    await this.#wire.close()
    const server = this.#server
    this.#server = null
    await server?.stop()
  }

  /** The status a bad-status fault holds a signal at (the newest one that covers it), or null. */
  #statusOf(signal: string): string | null {
    for (let i = this.#active.length - 1; i >= 0; i--) {
      const a = this.#active[i]!
      if (a.fault === 'opcua_bad_status' && (a.signal === undefined || a.signal === signal)) return a.status ?? 'BadUnexpectedError'
    }
    return null
  }

  /** Signals whose status a fault changed: the new status on the frozen value, or the current value, Good, once no fault holds it. */
  #restatus(before: Array<string | null>): void {
    const server = this.#server
    this.#profile.signals.forEach((s, i) => {
      const status = this.#statusOf(s.name)
      if (status === before[i] || !server) return
      if (status !== null) server.setStatus(s.name, status, Date.now() + this.#skewMs)
      else if (this.#image.has(s.name)) this.#sent.delete(s.name)
      // A signal the simulator does not drive goes back to having no value from its source.
      else server.setStatus(s.name, 'BadWaitingForInitialData', Date.now() + this.#skewMs)
    })
    this.update(this.#image)
  }
}
