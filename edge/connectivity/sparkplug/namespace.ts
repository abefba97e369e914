// The Sparkplug B topic namespace (spBv1.0/group_id/message_type/edge_node_id[/device_id]) and the metric names the specification reserves.

export const NAMESPACE = 'spBv1.0' // tck-id-topic-structure-namespace-a

export const messageTypes = ['NBIRTH', 'NDEATH', 'DBIRTH', 'DDEATH', 'NDATA', 'DDATA', 'NCMD', 'DCMD'] as const
export type MessageType = (typeof messageTypes)[number]
const known = new Set<string>(messageTypes)

/** The metric an NBIRTH carries and an NDEATH repeats, so a host can match a death to its birth (tck-id-topics-nbirth-bdseq-included). */
export const BD_SEQ = 'bdSeq'
/** The node command every edge node must honour (tck-id-operational-behavior-data-commands-rebirth-name). */
export const REBIRTH = 'Node Control/Rebirth'

export interface SparkplugTopic {
  groupId: string
  type: MessageType
  edgeNodeId: string
  deviceId?: string
}

/** tck-id-topic-structure: namespace/group_id/message_type/edge_node_id/[device_id] */
export function topicOf(groupId: string, type: MessageType, edgeNodeId: string, deviceId?: string): string {
  return deviceId === undefined ? `${NAMESPACE}/${groupId}/${type}/${edgeNodeId}` : `${NAMESPACE}/${groupId}/${type}/${edgeNodeId}/${deviceId}`
}

/** A Sparkplug B topic's parts; null for STATE, foreign namespaces and malformed topics. */
export function parseTopic(topic: string): SparkplugTopic | null {
  const parts = topic.split('/')
  if (parts[0] !== NAMESPACE || parts.length < 4 || parts.length > 5 || !known.has(parts[2]!)) return null
  if (parts.some((p) => p === '')) return null
  const type = parts[2] as MessageType
  // tck-id-topic-structure-namespace-device-id-associated-message-types: device messages name a device, node messages do not.
  if (type.startsWith('D') !== (parts.length === 5)) return null
  return { groupId: parts[1]!, type, edgeNodeId: parts[3]!, ...(parts.length === 5 ? { deviceId: parts[4]! } : {}) }
}

/** tck-id-topic-structure-namespace-valid-group-id (and -edge-node-id, -device-id): UTF-8 without + / #. */
export function checkId(what: string, id: string): void {
  if (id.length === 0 || /[/+#]/.test(id)) throw new TypeError(`${what} '${id}' is not a Sparkplug identifier: it must be non-empty and contain no /, + or #`)
}

/** tck-id-payloads-sequence-num-incrementing: 0..255, then 0 again. */
export function nextSeq(seq: number): number {
  return (seq + 1) % 256
}
