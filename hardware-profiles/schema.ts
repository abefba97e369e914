// The hardware profile schema: how a device's tags or registers map to Takt's semantic signals.
import { z } from 'zod'

const name = z.string().regex(/^[a-z][a-z0-9_.-]*$/, 'lower-case letters, digits, _ . - and starting with a letter')

/** What a signal means to the MES; signal rules turn these into commands. */
export const signalKinds = ['machine_state', 'good_count', 'reject_count', 'total_count', 'cycle_complete', 'measurement', 'alarm', 'stop_reason', 'value'] as const

/** Takt's machine states (PackML / OPC 40001 states map onto these). */
export const machineStates = ['running', 'idle', 'planned_stop', 'down', 'setup', 'starved', 'blocked'] as const

const common = {
  name,
  kind: z.enum(signalKinds),
  description: z.string().max(500).optional(),
  unit: z.string().max(20).optional(),
  /** For machine_state: device value (as text) → Takt state. */
  stateMap: z.record(z.string(), z.enum(machineStates)).optional(),
  /** For counters: the value at which the device counter wraps to zero. */
  counterWrap: z.number().int().positive().optional(),
}

const deadband = z.strictObject({ type: z.enum(['absolute', 'percent']), value: z.number().min(0) })

const opcuaSignal = z.strictObject({
  ...common,
  nodeId: z.string().regex(/^(ns=\d+;)?[isgb]=.+$/, 'an OPC UA NodeId such as ns=2;s=Machine.State'),
  samplingIntervalMs: z.number().int().min(0).max(3_600_000).optional(),
  deadband: deadband.optional(),
})

const modbusSignal = z
  .strictObject({
    ...common,
    area: z.enum(['coil', 'discrete_input', 'holding_register', 'input_register']),
    address: z.number().int().min(0).max(65535),
    type: z.enum(['bit', 'int16', 'uint16', 'int32', 'uint32', 'float32', 'float64', 'string']),
    length: z.number().int().min(1).max(125).optional(),
    bit: z.number().int().min(0).max(15).optional(),
    wordOrder: z.enum(['big', 'little']).default('big'),
    byteOrder: z.enum(['big', 'little']).default('big'),
    scale: z.number().default(1),
    offset: z.number().default(0),
  })
  .superRefine((s, ctx) => {
    const bitArea = s.area === 'coil' || s.area === 'discrete_input'
    if (bitArea && s.type !== 'bit') ctx.addIssue({ code: 'custom', path: ['type'], message: `a ${s.area} holds one bit; type must be bit` })
    if (s.type === 'string' && s.length === undefined) ctx.addIssue({ code: 'custom', path: ['length'], message: 'a string needs its length in registers' })
  })

const mqttSignal = z.strictObject({
  ...common,
  topic: z.string().min(1).max(500),
  /** Where the value sits in the JSON payload: $ for the whole payload, $.a.b[0] for a member. */
  path: z.string().regex(/^\$(\.[A-Za-z_][A-Za-z0-9_]*|\[\d+\])*$/, 'a JSON path such as $.counts.good'),
})

const sparkplugSignal = z.strictObject({ ...common, metric: z.string().min(1).max(500) })

const meta = {
  profile: name,
  version: z.number().int().min(1),
  vendor: z.string().max(200).optional(),
  model: z.string().max(200).optional(),
  description: z.string().max(2000).optional(),
}

export const HardwareProfile = z.discriminatedUnion('protocol', [
  z.strictObject({
    ...meta,
    protocol: z.literal('opcua'),
    connection: z
      .strictObject({
        securityMode: z.enum(['None', 'Sign', 'SignAndEncrypt']).default('None'),
        securityPolicy: z.enum(['None', 'Basic256Sha256', 'Aes128_Sha256_RsaOaep', 'Aes256_Sha256_RsaPss']).default('None'),
        publishingIntervalMs: z.number().int().min(10).max(60_000).default(1000),
      })
      .prefault({}),
    signals: z.array(opcuaSignal).min(1),
  }),
  z.strictObject({
    ...meta,
    protocol: z.literal('modbus'),
    connection: z
      .strictObject({
        transport: z.enum(['tcp', 'rtu']).default('tcp'),
        unitId: z.number().int().min(0).max(247).default(1),
        pollIntervalMs: z.number().int().min(10).max(3_600_000).default(1000),
        timeoutMs: z.number().int().min(10).max(60_000).default(1000),
      })
      .prefault({}),
    signals: z.array(modbusSignal).min(1),
  }),
  z.strictObject({ ...meta, protocol: z.literal('mqtt-json'), signals: z.array(mqttSignal).min(1) }),
  z.strictObject({ ...meta, protocol: z.literal('sparkplug'), signals: z.array(sparkplugSignal).min(1) }),
])

export type HardwareProfile = z.infer<typeof HardwareProfile>
