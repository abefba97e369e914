// An OPC UA server (node-opcua) exposing exactly the nodes an opcua hardware profile names, with types that fit each signal and values set from outside.
import { join } from 'node:path'
import { OPCUACertificateManager } from 'node-opcua-certificate-manager'
import { coerceNodeId, DataType, MessageSecurityMode, SecurityPolicy, StatusCodes, Variant, type NodeId, type StatusCode } from 'node-opcua-client'
import { OPCUAServer, RegisterServerMethod, type ServerSession } from 'node-opcua-server'
import type { HardwareProfile } from '../../hardware-profiles/schema.ts'

export type OpcUaProfile = Extract<HardwareProfile, { protocol: 'opcua' }>
type Signal = OpcUaProfile['signals'][number]
export type SecurityModeName = OpcUaProfile['connection']['securityMode']
export type SecurityPolicyName = OpcUaProfile['connection']['securityPolicy']
export type SignalValue = number | string | boolean

/** Where a simulated server listens and how it is secured: the same for every simulated OPC UA server. */
export interface SimServerOptions {
  /** 0 picks a free port. */
  port: number
  /** Where it listens and what its endpoint URL names; default 127.0.0.1. */
  host?: string
  /** The server's own PKI (its certificate, the clients it trusted or refused). Keep it to keep the certificate. */
  pkiDir: string
  securityModes?: SecurityModeName[]
  securityPolicies?: SecurityPolicyName[]
  /** When given, only these users may open a session; anonymous is refused. */
  users?: Array<{ username: string; password: string }>
  /** A simulator accepts any client certificate unless told otherwise; a production server must not. */
  trustAnyClient?: boolean
}

/** Security modes and policies default to exactly what the profile asks for, as a PLC configured for it offers. */
export interface ProfileServerOptions extends SimServerOptions {
  profile: OpcUaProfile
  /** EURange of the Double (AnalogItem) signals, by signal name; default 0–1000. */
  ranges?: Record<string, { low: number; high: number }>
  /**
   * MinimumSamplingInterval of every variable (OPC 10000-3 5.6.2); default 0: values are pushed, so
   * a client asking for sampling interval 0 gets every change (exception-based, OPC 10000-4 5.12.1.2).
   */
  minimumSamplingIntervalMs?: number
  /** The URL clients reach it by when that is not host:port (a relay in front, a NAT). */
  advertisedEndpoint?: string
  /** Namespace URIs from index 2 on; default urn:takt:simulator:<profile>:ns<i>. */
  namespaceUris?: string[]
}

export interface SetOptions {
  /** A status code name (OPC 10000-4 7.39), e.g. UncertainLastUsableValue; default Good. */
  status?: string
  /** The device's clock; default now. */
  sourceTimestamp?: Date | number
}

interface Served {
  signal: Signal
  node: VariableNode
  dataType: DataType
}

type Namespace = ReturnType<NonNullable<OPCUAServer['engine']['addressSpace']>['getOwnNamespace']>
type VariableNode = ReturnType<Namespace['addVariable']>
type Parent = Parameters<Namespace['addObject']>[0]['componentOf']

/** A machine's values are read by clients, never written: only the simulated PLC program changes them. */
const readOnly = { accessLevel: 'CurrentRead', userAccessLevel: 'CurrentRead' }
const defaultRange = { low: 0, high: 1000 }
const isBad = (status: StatusCode) => status.value >>> 30 >= 2

/** The OPC UA data type that fits a signal, as a PLC or a PackML / OPC 40001 server would declare it. */
export function signalDataType(signal: Signal): DataType {
  switch (signal.kind) {
    case 'machine_state': {
      const keys = Object.keys(signal.stateMap ?? {})
      return keys.every((k) => /^-?\d+$/.test(k)) ? DataType.Int32 : DataType.String
    }
    case 'good_count':
    case 'reject_count':
    case 'total_count': {
      // A counter that wraps at 2^31−1 is a DINT (PackML AccCount), at 2^32−1 a UDINT; one that never wraps is 64-bit.
      const wrap = signal.counterWrap
      if (wrap !== undefined && wrap <= 2_147_483_647) return DataType.Int32
      if (wrap !== undefined && wrap <= 4_294_967_295) return DataType.UInt32
      return DataType.Int64
    }
    case 'alarm':
    case 'cycle_complete':
      return DataType.Boolean
    case 'stop_reason':
      return DataType.Int32
    case 'measurement':
    case 'value':
      return DataType.Double
  }
}

/** A status code by its name; throws for a name OPC UA does not define. */
export function statusCodeOf(name: string): StatusCode {
  const status = (StatusCodes as unknown as Record<string, StatusCode | undefined>)[name]
  if (!status || typeof status.value !== 'number') throw new Error(`'${name}' is not an OPC UA status code name`)
  return status
}

function fits(dataType: DataType, n: number): boolean {
  switch (dataType) {
    case DataType.Int32:
      return Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31
    case DataType.UInt32:
      return Number.isInteger(n) && n >= 0 && n < 2 ** 32
    case DataType.Int64:
      // Beyond 2^53 a JavaScript number is no longer exact; the model's counters never get there.
      return Number.isSafeInteger(n)
    default:
      return !Number.isNaN(n)
  }
}

/** The value as the variant of `dataType` carries it; throws when it does not fit. */
function wireValue(served: Served, value: SignalValue): number | string | boolean {
  const { dataType, signal } = served
  if (dataType === DataType.Boolean) return Boolean(value)
  if (dataType === DataType.String) return String(value)
  const n = Number(value)
  if (!fits(dataType, n)) throw new Error(`signal '${signal.name}': ${JSON.stringify(value)} does not fit its ${DataType[dataType]} variable`)
  return n
}

export class ProfileServer {
  readonly #options: ProfileServerOptions
  readonly #served = new Map<string, Served>()
  readonly #sessions = new Set<ServerSession>()
  #server: OPCUAServer | null = null
  readonly #host: string

  constructor(options: ProfileServerOptions) {
    this.#options = options
    this.#host = options.host ?? '127.0.0.1'
  }

  /** The port it listens on (after start). */
  get port(): number {
    return this.#server?.endpoints[0]?.port ?? 0
  }

  /** opc.tcp://host:port — where it listens (the advertised URL is what clients are told). */
  get endpoint(): string {
    return `opc.tcp://${this.#host}:${this.port}`
  }

  /** The server's certificate (PEM); a client trusts the server by placing a copy in its trusted folder. */
  get certificateFile(): string {
    return join(this.#options.pkiDir, 'own', 'certs', 'certificate.pem')
  }

  /** Sessions open now. */
  get sessionCount(): number {
    return this.#sessions.size
  }

  /** Builds the address space and listens; resolves with the endpoint URL clients use. */
  async start(): Promise<string> {
    if (this.#server) throw new Error('the profile server is already started')
    const o = this.#options
    const { securityMode, securityPolicy } = o.profile.connection
    const users = o.users ?? []
    const server = new OPCUAServer({
      port: o.port,
      host: this.#host,
      hostname: this.#host,
      serverCertificateManager: new OPCUACertificateManager({ rootFolder: o.pkiDir, automaticallyAcceptUnknownCertificate: o.trustAnyClient ?? true }),
      // For X.509 user tokens; without one of its own node-opcua would make it in the home directory.
      userCertificateManager: new OPCUACertificateManager({ rootFolder: join(o.pkiDir, 'users'), automaticallyAcceptUnknownCertificate: false }),
      securityModes: (o.securityModes ?? [securityMode]).map((m) => MessageSecurityMode[m]),
      securityPolicies: (o.securityPolicies ?? [securityPolicy]).map((p) => SecurityPolicy[p]),
      allowAnonymous: users.length === 0,
      userManager: { isValidUser: (username: string, password: string) => users.some((u) => u.username === username && u.password === password) },
      ...(o.advertisedEndpoint ? { advertisedEndpoints: o.advertisedEndpoint } : {}),
      buildInfo: { productName: `Takt simulator of ${o.profile.profile}`, manufacturerName: 'Takt' },
      serverInfo: { applicationUri: `urn:takt:simulator:${o.profile.profile}`, productUri: 'urn:takt:simulator' },
      // No discovery server on a test bench: registering would only log retries.
      registerServerMethod: RegisterServerMethod.HIDDEN,
    })
    await server.initialize()
    this.#server = server
    try {
      this.#build()
      server.on('create_session', (session: ServerSession) => this.#sessions.add(session))
      server.on('session_closed', (session: ServerSession) => this.#sessions.delete(session))
      await server.start()
    } catch (error) {
      this.#server = null
      this.#served.clear()
      await server.shutdown(0).catch(() => {})
      throw new Error(`the OPC UA server of profile ${o.profile.profile} cannot start on ${this.#host}:${o.port}: ${error instanceof Error ? error.message : String(error)}`, { cause: error })
    }
    return o.advertisedEndpoint ?? this.endpoint
  }

  async stop(): Promise<void> {
    const server = this.#server
    this.#server = null
    this.#served.clear()
    this.#sessions.clear()
    if (server) await server.shutdown(0)
  }

  /** A signal's NodeId as the server has it, and its data type. */
  variable(signal: string): { nodeId: string; dataType: string } {
    const served = this.#get(signal)
    return { nodeId: served.node.nodeId.toString(), dataType: DataType[served.dataType] }
  }

  /**
   * Sets a signal's value, as the PLC program would. With a Bad status the value is null, as
   * OPC 10000-4 7.7.1 asks; an Uncertain value is kept.
   */
  set(signal: string, value: SignalValue, options: SetOptions = {}): void {
    const served = this.#get(signal)
    const status = options.status === undefined ? StatusCodes.Good : statusCodeOf(options.status)
    const variant = isBad(status) ? new Variant({ dataType: DataType.Null }) : new Variant({ dataType: served.dataType, value: wireValue(served, value) })
    served.node.setValueFromSource(variant, status, options.sourceTimestamp === undefined ? new Date() : new Date(options.sourceTimestamp))
  }

  /** Keeps the value and changes its status, as a failing sensor or a lost field bus does. */
  setStatus(signal: string, status: string, sourceTimestamp: Date | number = new Date()): void {
    const served = this.#get(signal)
    const code = statusCodeOf(status)
    const current = served.node.readValue().value
    const variant = isBad(code) ? new Variant({ dataType: DataType.Null }) : new Variant({ dataType: current.dataType, value: current.value })
    served.node.setValueFromSource(variant, code, new Date(sourceTimestamp))
  }

  /** The value a client would read now (null while Bad or before the first set). */
  read(signal: string): { value: SignalValue | null; status: string; sourceTimestamp: Date | null } {
    const dv = this.#get(signal).node.readValue()
    const raw = dv.value.value as unknown
    const value = raw === null || raw === undefined ? null : Array.isArray(raw) ? (raw[0] as number) * 2 ** 32 + ((raw[1] as number) >>> 0) : (raw as SignalValue)
    return { value, status: dv.statusCode.name, sourceTimestamp: dv.sourceTimestamp }
  }

  /** Closes every session (deleting its subscriptions) and every secure channel, as a server restart would. */
  dropClients(): void {
    const server = this.#server
    if (!server) return
    for (const session of [...this.#sessions]) server.engine.closeSession(session.authenticationToken, true, 'Forcing')
    for (const endpoint of server.endpoints) endpoint.abruptlyInterruptChannels()
  }

  #get(signal: string): Served {
    const served = this.#served.get(signal)
    if (!served) throw new Error(`profile ${this.#options.profile.profile} has no signal '${signal}'${this.#server ? '' : ' (or the server is not started)'}`)
    return served
  }

  /** Objects/<profile> holds one variable per signal, each under the NodeId the profile gives it. */
  #build(): void {
    const o = this.#options
    const addressSpace = this.#server!.engine.addressSpace!
    const seen = new Set<string>()
    const nodeIds = o.profile.signals.map((s, i) => this.#nodeIdOf(s, i, seen))
    const highest = Math.max(1, ...nodeIds.map((n) => n.namespace))
    // Namespace 1 is the server's own; the profile's namespaces 2… are registered in order so `ns=3;s=…` resolves.
    for (let index = 2; index <= highest; index++) addressSpace.registerNamespace(o.namespaceUris?.[index - 2] ?? `urn:takt:simulator:${o.profile.profile}:ns${index}`)
    const device = addressSpace.getOwnNamespace().addObject({ organizedBy: addressSpace.rootFolder.objects, browseName: o.profile.profile, nodeId: `s=Takt.${o.profile.profile}` })
    o.profile.signals.forEach((signal, i) => this.#addVariable(device, signal, nodeIds[i]!))
  }

  #nodeIdOf(signal: Signal, i: number, seen: Set<string>): NodeId {
    const where = `profile ${this.#options.profile.profile}: signals[${i}] (${signal.name}): nodeId '${signal.nodeId}'`
    const nodeId = coerceNodeId(signal.nodeId)
    // Namespace 0 belongs to the OPC Foundation (OPC 10000-3 8.2.2): a device's variables are never in it.
    if (nodeId.namespace === 0) throw new Error(`${where} is in namespace 0, the OPC UA standard namespace; a simulated device's nodes need ns=1 or higher`)
    const key = nodeId.toString()
    if (seen.has(key)) throw new Error(`${where} is already used by another signal`)
    seen.add(key)
    return nodeId
  }

  #addVariable(device: Parent, signal: Signal, nodeId: NodeId): void {
    const o = this.#options
    // Every namespace of an address space is a full Namespace; getNamespace() is typed with the narrower interface.
    const namespace = this.#server!.engine.addressSpace!.getNamespace(nodeId.namespace) as Namespace
    const dataType = signalDataType(signal)
    const common = { componentOf: device!, browseName: signal.name, nodeId, dataType: DataType[dataType], minimumSamplingInterval: o.minimumSamplingIntervalMs ?? 0, ...readOnly, ...(signal.description ? { description: signal.description } : {}) }
    const initial = { dataType, value: dataType === DataType.Boolean ? false : dataType === DataType.String ? '' : 0 }
    let node: VariableNode
    if (dataType === DataType.Double) {
      // An AnalogItem with an EURange (OPC 10000-8 5.3.2), so a percent deadband has something to be a percent of.
      const engineeringUnits = signal.unit ? { engineeringUnits: { namespaceUri: 'http://www.opcfoundation.org/UA/units/un/cefact', unitId: -1, displayName: { text: signal.unit }, description: { text: signal.unit } } } : {}
      const options = { ...common, engineeringUnitsRange: o.ranges?.[signal.name] ?? defaultRange, ...engineeringUnits, value: initial }
      node = namespace.addAnalogDataItem(options as Parameters<typeof namespace.addAnalogDataItem>[0]) as unknown as VariableNode
    } else node = namespace.addVariable({ ...common, value: initial })
    // Until the simulator sets it the variable has no value from its source (OPC 10000-4 7.39).
    node.setValueFromSource(new Variant({ dataType: DataType.Null }), StatusCodes.BadWaitingForInitialData, new Date())
    this.#served.set(signal.name, { signal, node, dataType })
  }
}
