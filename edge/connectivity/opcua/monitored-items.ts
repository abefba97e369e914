// A profile's signals as OPC UA monitored items: sampling, queue and deadband per signal, created in as few calls as the server allows.
import {
  AttributeIds,
  coerceNodeId,
  DataChangeFilter,
  DataChangeTrigger,
  DeadbandType,
  StatusCodes,
  TimestampsToReturn,
  VariableIds,
  type ClientSession,
  type ClientSubscription,
  type DataValue,
  type NodeId,
} from 'node-opcua-client'
import type { Logger } from 'pino'
import type { HardwareProfile } from '../../../hardware-profiles/schema.ts'
import type { Sample } from '../../historian/historian.ts'
import { statusName, toSample } from './values.ts'

type OpcUaProfile = Extract<HardwareProfile, { protocol: 'opcua' }>

export interface MonitoredSignal {
  /** device/name, as in every sample. */
  signal: string
  nodeId: NodeId
  samplingInterval: number
  deadband: { type: 'absolute' | 'percent'; value: number } | null
}

export interface RefusedSignal {
  signal: string
  reason: string
}

/** Items per CreateMonitoredItems call when the server states no lower limit. */
const defaultItemsPerCall = 1_000

/** What a server answers when it cannot apply a deadband to a variable (OPC 10000-4 7.22.2, 7.39). */
const deadbandRefusals = new Set([StatusCodes.BadMonitoredItemFilterUnsupported.value, StatusCodes.BadFilterNotAllowed.value, StatusCodes.BadDeadbandFilterInvalid.value])

/** Checks every NodeId once, at construction, so a typo is reported with its place in the profile instead of failing at run time. */
export function planItems(device: string, profile: OpcUaProfile, where: string): MonitoredSignal[] {
  return profile.signals.map((s, i) => {
    let nodeId: NodeId
    try {
      nodeId = coerceNodeId(s.nodeId)
    } catch (error) {
      throw new Error(`${where}: signals[${i}] (${s.name}): nodeId '${s.nodeId}' is not a valid NodeId: ${error instanceof Error ? error.message : String(error)}`)
    }
    // OPC 10000-4 5.12.1.2: without a sampling interval of its own a signal is sampled as often as it is published.
    return { signal: `${device}/${s.name}`, nodeId, samplingInterval: s.samplingIntervalMs ?? profile.connection.publishingIntervalMs, deadband: s.deadband ?? null }
  })
}

/**
 * OPC 10000-4 7.22.2 DataChangeFilter: report a change of status or value, and with a deadband
 * only a value that moved more than it — absolute in the variable's unit, or percent of its EURange.
 */
function filterOf(deadband: MonitoredSignal['deadband']): DataChangeFilter | null {
  if (!deadband) return null
  return new DataChangeFilter({ trigger: DataChangeTrigger.StatusValue, deadbandType: deadband.type === 'percent' ? DeadbandType.Percent : DeadbandType.Absolute, deadbandValue: deadband.value })
}

async function itemsPerCall(session: ClientSession): Promise<number> {
  try {
    // OPC 10000-5 6.3.11 OperationLimits: 0 means the server sets no limit.
    const limit = (await session.read({ nodeId: coerceNodeId(VariableIds.Server_ServerCapabilities_OperationLimits_MaxMonitoredItemsPerCall), attributeId: AttributeIds.Value })).value?.value
    return typeof limit === 'number' && limit > 0 ? Math.min(limit, defaultItemsPerCall) : defaultItemsPerCall
  } catch {
    return defaultItemsPerCall
  }
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}

/** Signals that share sampling interval and deadband go in one call; the key says which. */
function grouped(signals: MonitoredSignal[]): MonitoredSignal[][] {
  const groups = new Map<string, MonitoredSignal[]>()
  for (const s of signals) {
    const key = `${s.samplingInterval}|${s.deadband?.type ?? ''}|${s.deadband?.value ?? ''}`
    const group = groups.get(key)
    if (group) group.push(s)
    else groups.set(key, [s])
  }
  return [...groups.values()]
}

/**
 * Creates the monitored items and wires each one's notifications to `onSample`. Returns the
 * signals the server refused (unknown node, no read access …). A deadband the server cannot
 * apply — a percent deadband on a variable without an EURange, any deadband on a non-numeric
 * one — is dropped for that signal with a warning: its values still flow, every change of them.
 */
export async function subscribe(
  session: ClientSession,
  subscription: ClientSubscription,
  signals: MonitoredSignal[],
  publishingInterval: number,
  log: Logger,
  onSample: (sample: Sample) => void,
): Promise<RefusedSignal[]> {
  const perCall = await itemsPerCall(session)
  const refused: RefusedSignal[] = []
  const withoutDeadband: MonitoredSignal[] = []
  const create = async (batch: MonitoredSignal[]) => {
    const first = batch[0]!
    // A queue that holds every sample of one publishing interval, so a short state or a counter step is not overwritten.
    const queueSize = Math.min(100, Math.max(1, Math.ceil(publishingInterval / Math.max(first.samplingInterval, 1))))
    const filter = filterOf(first.deadband)
    const group = await subscription.monitorItems(
      batch.map((s) => ({ nodeId: s.nodeId, attributeId: AttributeIds.Value })),
      { samplingInterval: first.samplingInterval, queueSize, discardOldest: true, ...(filter ? { filter } : {}) },
      TimestampsToReturn.Both,
    )
    group.on('changed', (_item: unknown, dataValue: DataValue, index: number) => onSample(toSample(batch[index]!.signal, dataValue, Date.now())))
    group.monitoredItems.forEach((item, i) => {
      const status = item.statusCode
      if (status.isGood()) return
      const s = batch[i]!
      if (s.deadband && deadbandRefusals.has(status.value)) {
        log.warn({ signal: s.signal, nodeId: s.nodeId.toString(), status: status.name, deadband: s.deadband }, s.deadband.type === 'percent' ? 'percent deadband refused (it needs the variable’s EURange); monitoring every change instead' : 'deadband refused; monitoring every change instead')
        withoutDeadband.push({ ...s, deadband: null })
      } else {
        refused.push({ signal: s.signal, reason: statusName(status) })
      }
    })
  }
  for (const group of grouped(signals)) for (const batch of chunks(group, perCall)) await create(batch)
  for (const group of grouped(withoutDeadband)) for (const batch of chunks(group, perCall)) await create(batch)
  for (const r of refused) log.warn({ signal: r.signal, reason: r.reason }, 'monitored item refused by the server')
  return refused
}
