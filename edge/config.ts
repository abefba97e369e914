// Gateway configuration: a YAML file plus TAKT_* environment overrides, validated once, every problem listed, then frozen.
import { readFileSync } from 'node:fs'
import { dirname, isAbsolute, join, resolve } from 'node:path'
import { LineCounter, isNode, parseDocument } from 'yaml'
import { z } from 'zod'
import { checkProfileFile, formatProblem } from '../hardware-profiles/load.ts'
import type { HardwareProfile } from '../hardware-profiles/schema.ts'
import { signedActions } from './core/signatures.ts'

const port = z.number().int().min(0).max(65535)

export const GatewayConfigSchema = z.strictObject({
  dataDir: z.string().min(1).default('./data'),
  gatewayId: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/).default('gateway-1'),
  http: z
    .strictObject({
      host: z.string().min(1).default('127.0.0.1'),
      port: port.default(8080),
      maxBodyBytes: z.number().int().min(1024).max(64 * 1024 * 1024).default(1024 * 1024),
      /**
       * HTTPS for the API and the HMI (edge/api/tls.ts): `auto` is on unless http.host is a loopback
       * address, `self-signed` always on, `off` plain HTTP; or your own certificate and key files.
       */
      tls: z.union([z.enum(['auto', 'self-signed', 'off']), z.strictObject({ certFile: z.string().min(1), keyFile: z.string().min(1) })]).default('auto'),
      /** Failed logins one client address may make in the window before it gets 429 (edge/api/rate-limit.ts). */
      loginLimit: z.strictObject({ maxFailures: z.number().int().min(1).max(100_000).default(30), windowSeconds: z.number().int().min(1).max(86_400).default(300) }).prefault({}),
    })
    .prefault({}),
  mqtt: z
    .strictObject({
      host: z.string().min(1).default('0.0.0.0'),
      port: port.default(1883),
      /** MQTT over WebSocket for browser clients; off when null. */
      websocketPort: port.nullable().default(null),
      /** MQTT over TLS; off when null. Without certificate and key files it uses the gateway's self-signed certificate (edge/api/tls.ts). */
      tls: z
        .strictObject({ port: port.default(8883), certFile: z.string().min(1).optional(), keyFile: z.string().min(1).optional() })
        .refine((t) => (t.certFile === undefined) === (t.keyFile === undefined), 'certFile and keyFile go together')
        .nullable()
        .default(null),
      maxClients: z.number().int().min(1).max(100_000).default(500),
      maxPacketBytes: z.number().int().min(1024).max(256 * 1024 * 1024).default(256 * 1024),
      maxMessagesPerSecond: z.number().int().min(1).default(5000),
      accounts: z
        .array(
          z.strictObject({
            username: z.string().min(1).max(128),
            passwordHash: z.string().regex(/^scrypt\$/, 'a scrypt hash as `takt hash-password` prints it, never the password'),
            publish: z.array(z.string().min(1)).default([]),
            subscribe: z.array(z.string().min(1)).default([]),
          }),
        )
        .default([]),
    })
    .prefault({}),
  /** Machines of the line: each bound to a work center and described by a hardware profile. */
  devices: z
    .array(
      z.strictObject({
        name: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/),
        workCenterId: z.string().min(1),
        profile: z.string().min(1),
        /** Modbus TCP: the PLC's address. */
        host: z.string().min(1).optional(),
        port: port.optional(),
        unitId: z.number().int().min(0).max(247).optional(),
        /** Modbus RTU: the serial line. */
        serial: z
          .strictObject({
            path: z.string().min(1),
            baudRate: z.number().int().min(300).max(921_600).default(9600),
            parity: z.enum(['none', 'even', 'odd']).default('none'),
            dataBits: z.union([z.literal(7), z.literal(8)]).default(8),
            stopBits: z.union([z.literal(1), z.literal(2)]).default(1),
          })
          .optional(),
        /** OPC UA: the server's endpoint, and a user when the server wants one (the password never logged). */
        endpoint: z.string().regex(/^opc\.tcp:\/\/[^\s]+$/, 'an opc.tcp:// URL').optional(),
        username: z.string().min(1).optional(),
        password: z.string().min(1).optional(),
        /** Sparkplug B: the device's place in the Sparkplug namespace (spBv1.0/{groupId}/DDATA/{edgeNodeId}/{deviceId}). */
        sparkplug: z
          .strictObject({
            groupId: z.string().regex(/^[^/+#]+$/, 'no /, + or #'),
            edgeNodeId: z.string().regex(/^[^/+#]+$/, 'no /, + or #'),
            deviceId: z.string().regex(/^[^/+#]+$/, 'no /, + or #').optional(),
          })
          .optional(),
      }),
    )
    .default([]),
  /** The gateway as a Sparkplug B edge node on the enterprise broker; off when null. */
  sparkplug: z
    .strictObject({
      url: z.string().regex(/^mqtts?:\/\//, 'an mqtt:// or mqtts:// URL'),
      username: z.string().optional(),
      password: z.string().optional(),
      groupId: z.string().regex(/^[^/+#]+$/, 'no /, + or #'),
      edgeNodeId: z.string().regex(/^[^/+#]+$/, 'no /, + or #'),
    })
    .nullable()
    .default(null),
  /** The enterprise broker the line's namespace is bridged to; off when null. */
  bridge: z
    .strictObject({ url: z.string().regex(/^mqtts?:\/\//, 'an mqtt:// or mqtts:// URL'), username: z.string().optional(), password: z.string().optional(), remotePrefix: z.string().default(''), topics: z.array(z.string()).default(['#']) })
    .nullable()
    .default(null),
  historian: z
    .strictObject({
      rawRetentionDays: z.number().min(0.01).max(3650).default(30),
      /** How far a QoS 1 PUBACK may run ahead of the disk, ms (docs/connectivity.md); 0: every PUBACK waits for the sync. */
      ackWindowMs: z.number().int().min(0).max(100).default(50),
    })
    .prefault({}),
  /** Free space of the data directory's filesystem (edge/health/disk-guard.ts, docs/configuration.md). */
  disk: z
    .strictObject({
      /** Below this many free MB the historian sheds its oldest raw samples and stores no new ones. */
      historianFloorMb: z.number().int().min(0).max(10_000_000).default(1024),
      /** Below this many free MB as-built writes are refused (507); at most historianFloorMb. */
      hardFloorMb: z.number().int().min(0).max(10_000_000).default(256),
      checkIntervalMs: z.number().int().min(50).max(600_000).default(5000),
    })
    .prefault({}),
  /** System health sampling: CPU, memory, temperature, clock offset (GET /health, GET /metrics). */
  system: z.strictObject({ sampleIntervalMs: z.number().int().min(1000).max(3_600_000).default(15_000) }).prefault({}),
  /** Verified online backups of the MES database and the historian (edge/store/backup.ts); see docs/configuration.md#backups. */
  backup: z
    .strictObject({
      /** Hours between scheduled backups; 0: only on demand (POST /api/v1/admin/backups, `takt backup`). */
      intervalHours: z.number().min(0).max(8760).default(24),
      /** Backups kept in dir; the oldest beyond this are deleted after each new one. */
      keep: z.number().int().min(1).max(1000).default(7),
      /** Where backups go; dataDir/backups when null. */
      dir: z.string().min(1).nullable().default(null),
    })
    .prefault({}),
  sessionTtlMinutes: z.number().int().min(1).max(7 * 24 * 60).default(480),
  /** Password rules and lockout of person accounts (21 CFR 11.300; docs/compliance-part11.md). */
  accounts: z
    .strictObject({
      passwordMinLength: z.number().int().min(8).max(200).default(12),
      /** A new password may not repeat any of this many last ones. */
      passwordHistory: z.number().int().min(1).max(50).default(5),
      /** Days until a password must be changed at login; null: never. */
      passwordMaxAgeDays: z.number().int().min(1).max(3650).nullable().default(90),
      /** A password an administrator sets must be replaced by its owner at the next login. */
      changeAdminSetPasswords: z.boolean().default(false),
      /** Wrong passwords in a row (logins and signatures together) that lock an account, and for how long. */
      maxFailedLogins: z.number().int().min(1).max(100).default(5),
      lockoutMinutes: z.number().int().min(1).max(7 * 24 * 60).default(15),
      /** Minutes without a request after which a login session ends (21 CFR 11.10(d)). */
      sessionIdleMinutes: z.number().int().min(1).max(24 * 60).default(15),
    })
    .prefault({}),
  /** Electronic signatures (21 CFR 11.50–11.200): which actions need one, which need a second person, the zone of local times. */
  signatures: z
    .strictObject({
      required: z.array(z.enum(signedActions)).default([]),
      twoPerson: z.array(z.enum(signedActions)).default([]),
      /** IANA time zone of the local signing time; the host's zone when absent. */
      timeZone: z
        .string()
        .refine((tz) => {
          try {
            new Intl.DateTimeFormat('en-US', { timeZone: tz })
            return true
          } catch {
            return false
          }
        }, 'an IANA time zone such as Europe/Berlin')
        .optional(),
    })
    .prefault({}),
  log: z.strictObject({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') }).prefault({}),
  /** Upstream sync of the event log to cloud-sync (edge/sync, docs/cloud.md); off when null. */
  sync: z
    .strictObject({
      url: z.string().regex(/^https?:\/\/[^\s]+$/, 'an http:// or https:// URL').refine((u) => URL.canParse(u), 'not a valid URL'),
      /** This gateway's token from the cloud's registration; better given as TAKT_SYNC_TOKEN; never logged. */
      token: z.string().min(16, 'the token the cloud returned when this gateway was registered'),
      /** Raised only when this gateway's database was replaced by a new, empty one: a new chain from seq 1. */
      epoch: z.number().int().min(1).default(1),
      maxBatch: z.number().int().min(1).max(10_000).default(2000),
      /** Pushes in flight at once; the cloud applies them in seq order. */
      pipeline: z.number().int().min(1).max(4).default(2),
      timeoutMs: z.number().int().min(100).max(600_000).default(15_000),
      minBackoffMs: z.number().int().min(10).max(3_600_000).default(500),
      maxBackoffMs: z.number().int().min(10).max(86_400_000).default(60_000),
      idleMs: z.number().int().min(10).max(3_600_000).default(5_000),
      /** The line whose orders and master data this gateway follows from the cloud (downstream); none followed when null. */
      lineId: z.string().regex(/^[A-Za-z0-9._-]{1,128}$/, 'letters, digits, . _ - (1 to 128)').nullable().default(null),
    })
    .nullable()
    .default(null),
  /** ERP integration (B2MML in, performance out): see docs/erp.md. */
  erp: z
    .strictObject({
      /** Largest B2MML document accepted; at most http.maxBodyBytes, which it defaults to. */
      maxDocumentBytes: z.number().int().min(1024).nullable().default(null),
      /** The B2MML version of the performance of orders that came through the JSON API. */
      defaultVersion: z.string().regex(/^V(?:0[4-9]|1\d)\d\d$/, 'a B2MML version: V0401 … V0699, or V0700 and later').default('V0700'),
      /** Where Sync…Performance documents are pushed through the durable outbox; off when null. */
      push: z
        .strictObject({
          url: z.string().regex(/^https?:\/\/[^\s]+$/, 'an http:// or https:// URL').refine((u) => URL.canParse(u), 'not a valid URL'),
          /** Sent as the Authorization header (e.g. `Basic …`, `Bearer …`); never logged. */
          authorization: z.string().min(1).nullable().default(null),
          /** Also push each completed operation, not only completed orders. */
          segments: z.boolean().default(true),
          timeoutMs: z.number().int().min(100).max(600_000).default(10_000),
          minBackoffMs: z.number().int().min(10).max(3_600_000).default(1_000),
          maxBackoffMs: z.number().int().min(10).max(86_400_000).default(300_000),
          idleMs: z.number().int().min(10).max(3_600_000).default(5_000),
        })
        .nullable()
        .default(null),
    })
    .prefault({}),
})

export type GatewayConfig = Readonly<z.infer<typeof GatewayConfigSchema>> & {
  readonly adminToken: string | null
  readonly source: string
  /** Each device's hardware profile, loaded and validated at start. */
  readonly profiles: Readonly<Record<string, HardwareProfile>>
}

const supportedProtocols = new Set(['modbus', 'mqtt-json', 'opcua', 'sparkplug'])

/** Loads every device's profile; a bad one is a configuration problem naming file, line and path. */
function loadDeviceProfiles(config: z.infer<typeof GatewayConfigSchema>, baseDir: string, problems: string[]): Record<string, HardwareProfile> {
  const profiles: Record<string, HardwareProfile> = {}
  const names = new Set<string>()
  const lines = new Map<string, { index: number; line: string }>()
  config.devices.forEach((device, i) => {
    const key = `devices[${i}]`
    if (names.has(device.name)) problems.push(`${key}.name: device '${device.name}' is named twice`)
    names.add(device.name)
    const result = checkProfileFile(resolve(baseDir, device.profile))
    if (!result.ok) {
      for (const p of result.problems) problems.push(`${key}.profile: ${formatProblem(p)}`)
      return
    }
    const { protocol } = result.profile
    if (!supportedProtocols.has(protocol)) problems.push(`${key}.profile: ${protocol} devices are not collected by this gateway version (supported: ${[...supportedProtocols].join(', ')})`)
    if (protocol === 'modbus') {
      const rtu = result.profile.connection.transport === 'rtu'
      if (rtu && device.serial === undefined) problems.push(`${key}: a Modbus RTU device needs serial.path (its profile says transport: rtu)`)
      if (rtu && device.serial) {
        // Devices on one RS-485 line share it: they must agree on its settings.
        const s = device.serial
        const line = `${s.baudRate} ${s.dataBits}${s.parity[0]!.toUpperCase()}${s.stopBits}`
        const other = lines.get(s.path)
        if (other && other.line !== line) problems.push(`${key}.serial: ${s.path} is devices[${other.index}]'s line at ${other.line}; every device on one line needs the same settings, not ${line}`)
        else lines.set(s.path, { index: i, line })
      }
      if (!rtu && (device.host === undefined || device.port === undefined)) problems.push(`${key}: a Modbus TCP device needs host and port`)
    }
    if (protocol === 'opcua' && device.endpoint === undefined) problems.push(`${key}: an OPC UA device needs endpoint (opc.tcp://host:port)`)
    if (protocol === 'sparkplug' && device.sparkplug === undefined) problems.push(`${key}: a Sparkplug device needs sparkplug.groupId and sparkplug.edgeNodeId`)
    if ((device.username === undefined) !== (device.password === undefined)) problems.push(`${key}: username and password go together`)
    profiles[device.name] = result.profile
  })
  return profiles
}

/** Environment variables and the config key each one overrides. */
export const environment = {
  TAKT_DATA_DIR: { key: 'dataDir', type: 'string' },
  TAKT_GATEWAY_ID: { key: 'gatewayId', type: 'string' },
  TAKT_HTTP_HOST: { key: 'http.host', type: 'string' },
  TAKT_HTTP_PORT: { key: 'http.port', type: 'integer' },
  TAKT_HTTP_TLS: { key: 'http.tls', type: 'string' },
  TAKT_MQTT_PORT: { key: 'mqtt.port', type: 'integer' },
  TAKT_LOG_LEVEL: { key: 'log.level', type: 'string' },
  TAKT_DISK_HISTORIAN_FLOOR_MB: { key: 'disk.historianFloorMb', type: 'integer' },
  TAKT_DISK_HARD_FLOOR_MB: { key: 'disk.hardFloorMb', type: 'integer' },
  TAKT_ERP_PUSH_AUTHORIZATION: { key: 'erp.push.authorization', type: 'string' },
  TAKT_SYNC_TOKEN: { key: 'sync.token', type: 'string' },
  TAKT_BACKUP_DIR: { key: 'backup.dir', type: 'string' },
  TAKT_BACKUP_INTERVAL_HOURS: { key: 'backup.intervalHours', type: 'integer' },
  TAKT_BACKUP_KEEP: { key: 'backup.keep', type: 'integer' },
} as const

export class ConfigError extends Error {
  readonly problems: string[]
  constructor(problems: string[]) {
    super(`the configuration is not valid:\n${problems.map((p) => `  - ${p}`).join('\n')}`)
    this.problems = problems
  }
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split('.')
  let node = target
  for (const key of keys.slice(0, -1)) {
    if (typeof node[key] !== 'object' || node[key] === null) node[key] = {}
    node = node[key] as Record<string, unknown>
  }
  node[keys.at(-1)!] = value
}

type Located = { value: Record<string, unknown>; lineOf(key: string): number | undefined }

function readFile(file: string, problems: string[]): Located {
  const none: Located = { value: {}, lineOf: () => undefined }
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    problems.push(`${file}: cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`)
    return none
  }
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, { lineCounter })
  for (const e of doc.errors) problems.push(`${file}:${e.linePos?.[0]?.line ?? '?'}: ${e.message.split('\n')[0]}`)
  const value = doc.toJS() as unknown
  if (value === null || value === undefined) return none
  if (typeof value !== 'object' || Array.isArray(value)) {
    problems.push(`${file}: the top level must be a mapping of keys`)
    return none
  }
  const lineOf = (key: string) => {
    const node = doc.getIn(key.split('.'), true)
    return isNode(node) && node.range ? lineCounter.linePos(node.range[0]).line : undefined
  }
  return { value: value as Record<string, unknown>, lineOf }
}

export function loadConfig(options: { file?: string | undefined; env?: NodeJS.ProcessEnv; cwd?: string } = {}): GatewayConfig {
  const env = options.env ?? process.env
  const cwd = options.cwd ?? process.cwd()
  const problems: string[] = []
  const file = options.file ?? env.TAKT_CONFIG
  const located = file ? readFile(resolve(cwd, file), problems) : undefined
  const raw = located?.value ?? {}
  const origin = new Map<string, string>()
  for (const [name, { key, type }] of Object.entries(environment)) {
    const value = env[name]
    if (value === undefined || value === '') continue
    origin.set(key, `environment ${name}`)
    if (type === 'integer') {
      if (!/^\d+$/.test(value)) problems.push(`${name} (${key}): '${value}' is not a whole number`)
      else setPath(raw, key, Number(value))
    } else setPath(raw, key, value)
  }
  const parsed = GatewayConfigSchema.safeParse(raw)
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const prefix = issue.path.join('.')
      const keys = issue.code === 'unrecognized_keys' ? issue.keys.map((k) => (prefix ? `${prefix}.${k}` : k)) : [prefix || '(top level)']
      for (const key of keys) {
        const line = located?.lineOf(key)
        const where = origin.get(key) ?? (file ? `file ${file}${line ? ` line ${line}` : ''}` : 'defaults')
        const message = issue.code === 'unrecognized_keys' ? 'unknown key' : issue.message
        problems.push(`${key} (${where}): ${message}`)
      }
    }
  }
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems)
  const config = parsed.data
  if (config.erp.maxDocumentBytes !== null && config.erp.maxDocumentBytes > config.http.maxBodyBytes) {
    problems.push(`erp.maxDocumentBytes: ${config.erp.maxDocumentBytes} is above http.maxBodyBytes (${config.http.maxBodyBytes}); a document cannot be larger than a request`)
  }
  if (config.erp.push && config.erp.push.minBackoffMs > config.erp.push.maxBackoffMs) problems.push('erp.push.minBackoffMs: above erp.push.maxBackoffMs')
  if (config.sync && config.sync.minBackoffMs > config.sync.maxBackoffMs) problems.push('sync.minBackoffMs: above sync.maxBackoffMs')
  if (config.disk.hardFloorMb > config.disk.historianFloorMb) problems.push(`disk.hardFloorMb: ${config.disk.hardFloorMb} is above disk.historianFloorMb (${config.disk.historianFloorMb}); telemetry gives way before as-built records do`)
  const profiles = loadDeviceProfiles(config, file ? dirname(resolve(cwd, file)) : cwd, problems)
  if (problems.length > 0) throw new ConfigError(problems)
  const dataDir = isAbsolute(config.dataDir) ? config.dataDir : resolve(cwd, config.dataDir)
  const adminToken = env.TAKT_ADMIN_TOKEN && env.TAKT_ADMIN_TOKEN.length > 0 ? env.TAKT_ADMIN_TOKEN : null
  if (adminToken !== null && adminToken.length < 24) throw new ConfigError(['TAKT_ADMIN_TOKEN: must be at least 24 characters'])
  const backup = { ...config.backup, dir: config.backup.dir === null ? join(dataDir, 'backups') : resolve(cwd, config.backup.dir) }
  return deepFreeze({ ...config, dataDir, backup, adminToken, profiles, source: file ?? '(defaults and environment)' })
}

function deepFreeze<T extends object>(value: T): Readonly<T> {
  for (const v of Object.values(value)) if (v !== null && typeof v === 'object') deepFreeze(v as object)
  return Object.freeze(value)
}
