// `takt opcua browse URL`: walk a server's address space, list its variables, and draft a hardware profile from them.
import {
  AttributeIds,
  BrowseDirection,
  browseAll,
  coerceNodeId,
  NodeClass,
  NodeId,
  ObjectIds,
  ReferenceTypeIds,
  type ClientSession,
  type ReferenceDescription,
} from 'node-opcua-client'
import type { Logger } from 'pino'
import { clientCertificates } from './pki.ts'
import { closeClient, openSession, routeLibraryLogs, type SecurityModeName, type SecurityPolicyName } from './session.ts'

export interface BrowseOptions {
  /** The client PKI, as for the collector: the gateway's data directory, never the home directory. */
  pkiDir: string
  securityMode?: SecurityModeName
  securityPolicy?: SecurityPolicyName
  username?: string
  password?: string
  /** Where to start; default the Objects folder (i=85). */
  startNodeId?: string
  /** How many references deep; 1 lists the start node's own children. Default 6. */
  maxDepth?: number
  /** Stop after this many variables and say so (`truncated`). Default 10,000. */
  maxVariables?: number
  /** The standard Server object (i=2253) holds hundreds of diagnostics; it is skipped unless asked for. */
  includeServerObject?: boolean
  timeoutMs?: number
  logger?: Logger
}

export interface BrowsedVariable {
  nodeId: string
  /** Relative path from the start node in the OPC 10000-4 A.2 text form, e.g. /2:PackML/2:Status/2:StateCurrent. */
  browsePath: string
  browseName: string
  /** The data type's browse name: Int32, Double, UtcTime, … */
  dataType: string
  /** AccessLevel bits by name (OPC 10000-3 8.57): CurrentRead, CurrentWrite, HistoryRead, … */
  accessLevel: string[]
}

export interface BrowseResult {
  endpoint: string
  startNodeId: string
  variables: BrowsedVariable[]
  /** True when maxVariables stopped the walk before it was done. */
  truncated: boolean
}

const accessBits = ['CurrentRead', 'CurrentWrite', 'HistoryRead', 'HistoryWrite', 'SemanticChange', 'StatusWrite', 'TimestampWrite'] as const
/** Nodes per Browse or Read call: within what servers commonly allow (OperationLimits MaxNodesPerBrowse / MaxNodesPerRead). */
const perCall = 500

/** OPC 10000-4 A.2: these characters are escaped with & in a relative path. */
const escapeName = (name: string) => name.replace(/[/.<>:#!&]/g, (c) => `&${c}`)

function chunked<T>(items: T[]): T[][] {
  const out: T[][] = []
  for (let i = 0; i < items.length; i += perCall) out.push(items.slice(i, i + perCall))
  return out
}

interface Found {
  nodeId: NodeId
  browsePath: string
  browseName: string
}

/** Breadth first, one Browse call per level and chunk; a node reached twice is walked once. */
async function walk(session: ClientSession, start: NodeId, o: Required<Pick<BrowseOptions, 'maxDepth' | 'maxVariables' | 'includeServerObject'>>): Promise<{ found: Found[]; truncated: boolean }> {
  const seen = new Set<string>([start.toString()])
  const found: Found[] = []
  let truncated = false
  let level: Array<{ nodeId: NodeId; path: string }> = [{ nodeId: start, path: '' }]
  for (let depth = 1; depth <= o.maxDepth && level.length > 0; depth++) {
    const next: typeof level = []
    for (const chunk of chunked(level)) {
      const results = await browseAll(
        session,
        chunk.map((n) => ({
          nodeId: n.nodeId,
          referenceTypeId: ReferenceTypeIds.HierarchicalReferences,
          includeSubtypes: true,
          browseDirection: BrowseDirection.Forward,
          nodeClassMask: NodeClass.Object | NodeClass.Variable,
          resultMask: 0x3f,
        })),
      )
      results.forEach((result, i) => {
        for (const ref of (result.references ?? []) as ReferenceDescription[]) {
          if (ref.nodeId.serverIndex) continue // on another server: not ours to walk
          // The NodeId, not the ExpandedNodeId: it is what a profile and a Read call take.
          const nodeId = new NodeId(ref.nodeId.identifierType, ref.nodeId.value, ref.nodeId.namespace)
          const id = nodeId.toString()
          if (seen.has(id)) continue
          seen.add(id)
          if (!o.includeServerObject && ref.nodeId.namespace === 0 && ref.nodeId.value === ObjectIds.Server) continue
          const name = ref.browseName.name ?? ''
          const path = `${chunk[i]!.path}/${ref.browseName.namespaceIndex ? `${ref.browseName.namespaceIndex}:` : ''}${escapeName(name)}`
          // Properties (EURange, EngineeringUnits …) describe a variable; they are not signals of their own.
          if (ref.nodeClass === NodeClass.Variable && !(ref.referenceTypeId.namespace === 0 && ref.referenceTypeId.value === ReferenceTypeIds.HasProperty)) {
            if (found.length >= o.maxVariables) {
              truncated = true
              continue
            }
            found.push({ nodeId, browsePath: path, browseName: name })
          }
          next.push({ nodeId, path })
        }
      })
      if (truncated) return { found, truncated }
    }
    level = next
  }
  return { found, truncated: false }
}

/** DataType and AccessLevel of every variable, then the browse names of the data types met. */
async function describe(session: ClientSession, found: Found[]): Promise<BrowsedVariable[]> {
  const attributes: Array<{ dataType: NodeId | null; access: number }> = []
  for (const chunk of chunked(found)) {
    const values = await session.read(chunk.flatMap((f) => [
      { nodeId: f.nodeId, attributeId: AttributeIds.DataType },
      { nodeId: f.nodeId, attributeId: AttributeIds.AccessLevel },
    ]))
    for (let i = 0; i < chunk.length; i++) {
      const type = values[2 * i]!.value?.value as NodeId | null | undefined
      attributes.push({ dataType: type ?? null, access: Number(values[2 * i + 1]!.value?.value ?? 0) })
    }
  }
  const typeIds = [...new Map(attributes.filter((a) => a.dataType).map((a) => [a.dataType!.toString(), a.dataType!])).values()]
  const typeNames = new Map<string, string>()
  for (const chunk of chunked(typeIds)) {
    const names = await session.read(chunk.map((nodeId) => ({ nodeId, attributeId: AttributeIds.BrowseName })))
    chunk.forEach((id, i) => typeNames.set(id.toString(), (names[i]!.value?.value as { name?: string } | null)?.name ?? id.toString()))
  }
  return found.map((f, i) => {
    const a = attributes[i]!
    return {
      nodeId: f.nodeId.toString(),
      browsePath: f.browsePath,
      browseName: f.browseName,
      dataType: a.dataType ? (typeNames.get(a.dataType.toString()) ?? a.dataType.toString()) : 'unknown',
      accessLevel: accessBits.filter((_, bit) => a.access & (1 << bit)),
    }
  })
}

/** Connects once, walks from the start node and returns every variable found with its type and access. */
export async function browse(endpoint: string, options: BrowseOptions): Promise<BrowseResult> {
  const maxDepth = options.maxDepth ?? 6
  const maxVariables = options.maxVariables ?? 10_000
  if (!Number.isInteger(maxDepth) || maxDepth < 1 || maxDepth > 50) throw new Error(`browse: maxDepth must be a whole number from 1 to 50, not ${maxDepth}`)
  if (!Number.isInteger(maxVariables) || maxVariables < 1) throw new Error(`browse: maxVariables must be a positive whole number, not ${maxVariables}`)
  const startText = options.startNodeId ?? 'i=85'
  let start: NodeId
  try {
    start = coerceNodeId(startText)
  } catch {
    throw new Error(`browse: start node '${startText}' is not a NodeId such as i=85 or ns=2;s=Machine`)
  }
  if (options.logger) routeLibraryLogs(options.logger)
  const certificates = clientCertificates(options.pkiDir)
  try {
    const { client, session } = await openSession({
      endpoint,
      securityMode: options.securityMode ?? 'None',
      securityPolicy: options.securityPolicy ?? 'None',
      ...(options.username !== undefined ? { username: options.username, password: options.password ?? '' } : {}),
      certificates,
      pkiDir: options.pkiDir,
      sessionName: 'takt browse',
      ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
    })
    try {
      const { found, truncated } = await walk(session, start, { maxDepth, maxVariables, includeServerObject: options.includeServerObject ?? false })
      return { endpoint, startNodeId: start.toString(), variables: await describe(session, found), truncated }
    } finally {
      await closeClient(client, session)
    }
  } finally {
    await certificates.dispose()
  }
}

/** A plain-text table for the console: node id, data type, access, browse path. */
export function formatVariables(result: BrowseResult): string {
  const access = (v: BrowsedVariable) => (v.accessLevel.includes('CurrentWrite') ? 'rw' : v.accessLevel.includes('CurrentRead') ? 'r' : '-') + (v.accessLevel.includes('HistoryRead') ? 'h' : '')
  const rows = [['NodeId', 'Data type', 'Access', 'Browse path'], ...result.variables.map((v) => [v.nodeId, v.dataType, access(v), v.browsePath])]
  const widths = [0, 1, 2].map((c) => Math.max(...rows.map((r) => r[c]!.length)))
  const lines = rows.map((r) => `${r[0]!.padEnd(widths[0]!)}  ${r[1]!.padEnd(widths[1]!)}  ${r[2]!.padEnd(widths[2]!)}  ${r[3]}`)
  const summary = `${result.variables.length} variable${result.variables.length === 1 ? '' : 's'} under ${result.startNodeId} at ${result.endpoint}${result.truncated ? ' (stopped at the limit; browse deeper from a node further down, or raise it)' : ''}`
  return `${lines.join('\n')}\n${summary}\n`
}

export { profileSkeleton, type SkeletonOptions } from './profile-skeleton.ts'
