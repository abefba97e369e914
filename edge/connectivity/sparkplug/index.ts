// Sparkplug B for the gateway: the edge node on an enterprise broker, the host for devices on the embedded broker, and the payload codec.
export { SparkplugEdgeNode, type EdgeNodeMetric, type EdgeNodeStatus, type SparkplugEdgeNodeOptions } from './edge-node.ts'
export { SparkplugDeviceCollector, type SparkplugCollectorStatus, type SparkplugDeviceCollectorOptions, type SparkplugProfile } from './host.ts'
export { parseTopic, topicOf, type MessageType, type SparkplugTopic } from './namespace.ts'
export { DataType, dataTypeName, decodePayload, encodePayload, SparkplugPayloadError, type Metric, type MetricValue, type Payload, type ScalarTypeName } from './payload.ts'
