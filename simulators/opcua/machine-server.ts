// A PackML / OPC 40001-style machine as a real OPC UA server (node-opcua), for tests, benchmarks and commissioning; runnable as a child process.
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { OPCUACertificateManager } from 'node-opcua-certificate-manager'
import { DataType, MessageSecurityMode, SecurityPolicy, StatusCodes, Variant, type StatusCode } from 'node-opcua-client'
import { OPCUAServer, RegisterServerMethod } from 'node-opcua-server'
import type { SimServerOptions } from './profile-server.ts'

/** The simulator's namespace; registered right after the server's own, so it is ns=2 as in the shipped PackML profile. */
export const machineNamespaceUri = 'urn:takt:simulator:packml-machine'

/** PackML states (ISA-TR88.00.02), the numbers StateCurrent carries. */
export const packmlState = { clearing: 1, stopped: 2, starting: 3, idle: 4, suspended: 5, execute: 6, stopping: 7, aborting: 8, aborted: 9, holding: 10, held: 11, unholding: 12, suspending: 13, unsuspending: 14, resetting: 15, completing: 16, complete: 17 } as const

/** PackML unit modes (UnitModeCurrent). */
export const packmlMode = { production: 1, maintenance: 2, manual: 3 } as const

export type SecurityModeName = 'None' | 'Sign' | 'SignAndEncrypt'
export type SecurityPolicyName = 'None' | 'Basic256Sha256' | 'Aes128_Sha256_RsaOaep' | 'Aes256_Sha256_RsaPss'

export interface SimulatedMeasurement {
  /** Browse name, e.g. FillWeight; the node is ns=2;s=Machine.Measurements.<name>. */
  name: string
  unit: string
  nominal: number
  /** Each cycle's value lies within nominal ± spread. */
  spread: number
  /** The EURange (OPC 10000-8 5.3.2), which a percent deadband is taken of. */
  low: number
  high: number
}

export interface MachineServerOptions extends SimServerOptions {
  /** One part per cycle while the state is Execute. */
  cycleTimeMs?: number
  /** Every n-th part is defective (0: none). */
  defectEvery?: number
  measurements?: SimulatedMeasurement[]
  /** Extra Double variables (ns=2;s=Load.<i>) that all change every extraIntervalMs, for load. */
  extraVariables?: number
  extraIntervalMs?: number
  /** PackML state at start; default Execute. */
  initialState?: number
  /** Seed of the measurement noise, so a run can be repeated. */
  seed?: number
}

type VariableNode = ReturnType<ReturnType<NonNullable<OPCUAServer['engine']['addressSpace']>['getOwnNamespace']>['addVariable']>

/** A machine's status is read by clients, never written: only the simulator (its PLC program) changes it. */
const readOnly = { accessLevel: 'CurrentRead', userAccessLevel: 'CurrentRead' }

const defaultMeasurements: SimulatedMeasurement[] = [
  { name: 'FillWeight', unit: 'g', nominal: 500, spread: 2, low: 0, high: 1000 },
  { name: 'Temperature', unit: 'degC', nominal: 65, spread: 0.5, low: -20, high: 200 },
]

/** The fixed nodes, by the key tests and scenarios use. */
const nodeKeys = {
  state: 'PackML.Status.StateCurrent',
  mode: 'PackML.Status.UnitModeCurrent',
  speed: 'PackML.Status.CurMachSpeed',
  processed: 'PackML.Admin.ProdProcessedCount[0].AccCount',
  defective: 'PackML.Admin.ProdDefectiveCount[0].AccCount',
  stopReason: 'PackML.Admin.StopReason.ID',
  cycleTime: 'Machine.CycleTime',
} as const
export type MachineNode = keyof typeof nodeKeys
/** A fixed node, a measurement by browse name, or a load variable by number. */
export type MachineNodeRef = MachineNode | `measurement:${string}` | number

export class MachineServer {
  #server: OPCUAServer | null = null
  #timers: NodeJS.Timeout[] = []
  #variables = new Map<string, { node: VariableNode; dataType: DataType }>()
  #namespaceIndex = 2
  #random = 1
  #state = 0
  #processed = 0
  #defective = 0
  #port = 0
  #host = '127.0.0.1'
  #certificateFile = ''
  #cycleTimeMs = 1000

  /** opc.tcp://host:port — the endpoint clients connect to. */
  get endpoint(): string {
    return `opc.tcp://${this.#host}:${this.#port}`
  }

  /** The server's certificate (PEM); a client trusts the server by placing a copy in its trusted folder. */
  get certificateFile(): string {
    return this.#certificateFile
  }

  /** The NodeId text of a fixed node, a measurement (by browse name) or a load variable (by number). */
  nodeId(node: MachineNodeRef): string {
    if (typeof node === 'number') return `ns=${this.#namespaceIndex};s=Load.${node}`
    if (node.startsWith('measurement:')) return `ns=${this.#namespaceIndex};s=Machine.Measurements.${node.slice('measurement:'.length)}`
    return `ns=${this.#namespaceIndex};s=${nodeKeys[node as MachineNode]}`
  }

  async start(options: MachineServerOptions): Promise<void> {
    if (this.#server) throw new Error('the machine server is already started')
    this.#host = options.host ?? '127.0.0.1'
    this.#cycleTimeMs = options.cycleTimeMs ?? 1000
    this.#random = options.seed ?? 1
    const serverCertificateManager = new OPCUACertificateManager({ rootFolder: options.pkiDir, automaticallyAcceptUnknownCertificate: options.trustAnyClient ?? true })
    // For X.509 user tokens; without one of its own node-opcua would make it in the home directory.
    const userCertificateManager = new OPCUACertificateManager({ rootFolder: join(options.pkiDir, 'users'), automaticallyAcceptUnknownCertificate: false })
    const users = options.users ?? []
    const server = new OPCUAServer({
      port: options.port,
      host: this.#host,
      hostname: this.#host,
      serverCertificateManager,
      userCertificateManager,
      securityModes: (options.securityModes ?? ['None', 'Sign', 'SignAndEncrypt']).map((m) => MessageSecurityMode[m]),
      securityPolicies: (options.securityPolicies ?? ['None', 'Basic256Sha256']).map((p) => SecurityPolicy[p]),
      allowAnonymous: users.length === 0,
      userManager: { isValidUser: (username: string, password: string) => users.some((u) => u.username === username && u.password === password) },
      buildInfo: { productName: 'Takt PackML machine simulator', manufacturerName: 'Takt' },
      serverInfo: { applicationUri: 'urn:takt:simulator:packml-machine-server', productUri: 'urn:takt:simulator' },
      // No discovery server on a test bench: registering would only log retries.
      registerServerMethod: RegisterServerMethod.HIDDEN,
    })
    await server.initialize()
    this.#server = server
    this.#certificateFile = join(options.pkiDir, 'own', 'certs', 'certificate.pem')
    this.#build(options)
    try {
      await server.start()
    } catch (error) {
      this.#server = null
      await server.shutdown(0).catch(() => {})
      throw new Error(`the machine server cannot listen on ${this.#host}:${options.port}: ${error instanceof Error ? error.message : String(error)}`, { cause: error })
    }
    this.#port = options.port
    this.#schedule(options)
  }

  async stop(): Promise<void> {
    for (const timer of this.#timers) clearInterval(timer)
    this.#timers = []
    const server = this.#server
    this.#server = null
    this.#variables.clear()
    if (server) await server.shutdown(0)
  }

  /** PackML state now (StateCurrent). */
  get state(): number {
    return this.#state
  }

  setState(state: number): void {
    this.#state = state
    this.#write(nodeKeys.state, state)
    this.#write(nodeKeys.speed, state === packmlState.execute ? 60_000 / this.#cycleTimeMs : 0)
  }

  setMode(mode: number): void {
    this.#write(nodeKeys.mode, mode)
  }

  setStopReason(id: number): void {
    this.#write(nodeKeys.stopReason, id)
  }

  /** Writes a value as the machine would, e.g. a new measurement; Good unless a status is given. */
  write(node: MachineNodeRef, value: number, statusName = 'Good'): void {
    const status = (StatusCodes as unknown as Record<string, StatusCode | undefined>)[statusName]
    if (!status || typeof status.value !== 'number') throw new Error(`write: '${statusName}' is not an OPC UA status code name`)
    const entry = this.#variables.get(this.nodeId(node).replace(/^ns=\d+;s=/, ''))
    if (!entry) throw new Error(`write: no variable ${this.nodeId(node)}`)
    entry.node.setValueFromSource(new Variant({ dataType: entry.dataType, value }), status, new Date())
  }

  /** Keeps the value and changes its status, e.g. 'UncertainLastUsableValue' or 'BadSensorFailure', as a failing sensor would. */
  setStatus(node: MachineNodeRef, statusName: string): void {
    const entry = this.#variables.get(this.nodeId(node).replace(/^ns=\d+;s=/, ''))
    if (!entry) throw new Error(`setStatus: no variable ${this.nodeId(node)}`)
    this.write(node, entry.node.readValue().value.value as number, statusName)
  }

  /** Builds the address space: Objects/PackML/{Status,Admin}, Objects/Machine/{CycleTime,Measurements}, Objects/Load. */
  #build(options: MachineServerOptions): void {
    const addressSpace = this.#server!.engine.addressSpace!
    const ns = addressSpace.registerNamespace(machineNamespaceUri)
    this.#namespaceIndex = ns.index
    const objects = addressSpace.rootFolder.objects
    const object = (parent: Parameters<typeof ns.addObject>[0]['componentOf'] | null, browseName: string, id: string) =>
      ns.addObject({ ...(parent ? { componentOf: parent } : { organizedBy: objects }), browseName, nodeId: `s=${id}` })
    // minimumSamplingInterval 0: every value is pushed by the simulator, so monitored items are exception-based
    // (OPC 10000-3 5.6.2); without it node-opcua would clamp sampling to 1000 ms.
    const variable = (parent: Parameters<typeof ns.addObject>[0]['componentOf'], browseName: string, id: string, dataType: DataType, value: number) => {
      const node = ns.addVariable({ componentOf: parent!, browseName, nodeId: `s=${id}`, dataType: DataType[dataType], minimumSamplingInterval: 0, ...readOnly, value: { dataType, value } })
      this.#variables.set(id, { node, dataType })
    }
    const analog = (parent: Parameters<typeof ns.addObject>[0]['componentOf'], browseName: string, id: string, dataType: DataType, value: number, range: { low: number; high: number }, unit: string) => {
      const node = ns.addAnalogDataItem({ componentOf: parent!, browseName, nodeId: `s=${id}`, dataType: DataType[dataType], minimumSamplingInterval: 0, engineeringUnitsRange: range, description: unit, ...readOnly, value: { dataType, value } } as Parameters<typeof ns.addAnalogDataItem>[0])
      this.#variables.set(id, { node: node as unknown as VariableNode, dataType })
    }
    const packml = object(null, 'PackML', 'PackML')
    const status = object(packml, 'Status', 'PackML.Status')
    variable(status, 'StateCurrent', nodeKeys.state, DataType.Int32, 0)
    variable(status, 'UnitModeCurrent', nodeKeys.mode, DataType.Int32, packmlMode.production)
    analog(status, 'CurMachSpeed', nodeKeys.speed, DataType.Float, 0, { low: 0, high: 600 }, 'parts/min')
    const admin = object(packml, 'Admin', 'PackML.Admin')
    variable(object(admin, 'ProdProcessedCount[0]', 'PackML.Admin.ProdProcessedCount[0]'), 'AccCount', nodeKeys.processed, DataType.Int32, 0)
    variable(object(admin, 'ProdDefectiveCount[0]', 'PackML.Admin.ProdDefectiveCount[0]'), 'AccCount', nodeKeys.defective, DataType.Int32, 0)
    variable(object(admin, 'StopReason', 'PackML.Admin.StopReason'), 'ID', nodeKeys.stopReason, DataType.Int32, 0)
    const machine = object(null, 'Machine', 'Machine')
    analog(machine, 'CycleTime', nodeKeys.cycleTime, DataType.Double, this.#cycleTimeMs / 1000, { low: 0, high: 3600 }, 's')
    const measurements = object(machine, 'Measurements', 'Machine.Measurements')
    for (const m of options.measurements ?? defaultMeasurements) analog(measurements, m.name, `Machine.Measurements.${m.name}`, DataType.Double, m.nominal, { low: m.low, high: m.high }, m.unit)
    const extra = options.extraVariables ?? 0
    if (extra > 0) {
      const load = object(null, 'Load', 'Load')
      for (let i = 0; i < extra; i++) variable(load, `Value${i}`, `Load.${i}`, DataType.Double, i)
    }
    this.setState(options.initialState ?? packmlState.execute)
  }

  #schedule(options: MachineServerOptions): void {
    const measurements = options.measurements ?? defaultMeasurements
    const defectEvery = options.defectEvery ?? 10
    // Each tick only writes values in memory, synchronously: ticks cannot overlap, so a plain interval is right here.
    this.#timers.push(
      setInterval(() => {
        if (this.#state !== packmlState.execute) return
        this.#processed += 1
        this.#write(nodeKeys.processed, this.#processed)
        if (defectEvery > 0 && this.#processed % defectEvery === 0) this.#write(nodeKeys.defective, (this.#defective += 1))
        for (const m of measurements) this.#write(`Machine.Measurements.${m.name}`, m.nominal + (this.#next() * 2 - 1) * m.spread)
      }, this.#cycleTimeMs),
    )
    const extra = options.extraVariables ?? 0
    if (extra > 0) {
      let round = 0
      this.#timers.push(
        setInterval(() => {
          round += 1
          const now = new Date()
          for (let i = 0; i < extra; i++) this.#variables.get(`Load.${i}`)!.node.setValueFromSource(new Variant({ dataType: DataType.Double, value: i + round }), StatusCodes.Good, now)
        }, options.extraIntervalMs ?? 1000),
      )
    }
  }

  #write(id: string, value: number): void {
    const entry = this.#variables.get(id)
    if (entry) entry.node.setValueFromSource(new Variant({ dataType: entry.dataType, value }), StatusCodes.Good, new Date())
  }

  /** A small linear congruential generator: repeatable noise, no dependency. */
  #next(): number {
    this.#random = (this.#random * 1_103_515_245 + 12_345) % 2 ** 31
    return this.#random / 2 ** 31
  }
}

const usage = `node simulators/opcua/machine-server.ts --port N --pki DIR [options]

  --port N            TCP port (required)
  --host H            listen address and endpoint host (default 127.0.0.1)
  --pki DIR           the server's PKI folder (required; keep it to keep the certificate)
  --user NAME:PASS    allow this user (repeatable); without it anonymous sessions are allowed
  --cycle MS          cycle time while in Execute (default 1000)
  --extra N           N extra Double variables ns=2;s=Load.<i> for load (default 0)
  --extra-interval MS how often they all change (default 1000)
  --state N           PackML state at start (default 6, Execute)

Prints one JSON line {"ready":true,...} when it listens; stops on SIGTERM or SIGINT.
`

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      pki: { type: 'string' },
      user: { type: 'string', multiple: true },
      cycle: { type: 'string' },
      extra: { type: 'string' },
      'extra-interval': { type: 'string' },
      state: { type: 'string' },
      help: { type: 'boolean' },
    },
  })
  if (values.help || !values.port || !values.pki) {
    process.stdout.write(usage)
    process.exitCode = values.help ? 0 : 2
    return
  }
  const number = (name: string, text: string | undefined, fallback: number) => {
    const n = text === undefined ? fallback : Number(text)
    if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a whole number, not ${text}`)
    return n
  }
  const users = (values.user ?? []).map((u) => {
    const at = u.indexOf(':')
    if (at < 1) throw new Error(`--user must be NAME:PASSWORD, not ${u.slice(0, Math.max(at, 0))}…`)
    return { username: u.slice(0, at), password: u.slice(at + 1) }
  })
  const machine = new MachineServer()
  await machine.start({
    port: number('port', values.port, 0),
    ...(values.host ? { host: values.host } : {}),
    pkiDir: values.pki,
    users,
    cycleTimeMs: number('cycle', values.cycle, 1000),
    extraVariables: number('extra', values.extra, 0),
    extraIntervalMs: number('extra-interval', values['extra-interval'], 1000),
    initialState: number('state', values.state, packmlState.execute),
  })
  process.stdout.write(`${JSON.stringify({ ready: true, endpoint: machine.endpoint, pid: process.pid, certificateFile: machine.certificateFile })}\n`)
  const shutdown = () => void machine.stop().then(() => process.exit(0))
  process.once('SIGTERM', shutdown)
  process.once('SIGINT', shutdown)
}

if (import.meta.main) {
  main().catch((error: unknown) => {
    process.stderr.write(`machine-server: ${error instanceof Error ? error.message : String(error)}\n`)
    process.exit(1)
  })
}
