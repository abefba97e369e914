// A real gateway process configured for the telemetry bench: MQTT JSON devices with a scrypt-hashed account each, on free ports.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { hashPassword } from '../../edge/api/passwords.ts'
import { startGatewayProcess, type GatewayProcess } from './gateway-process.ts'

export interface TelemetryGatewayOptions {
  dataDir: string
  adminToken: string
  /** Device names; each is an MQTT account (its name as user name) and an MQTT JSON device. */
  devices: string[]
  password: string
  samplesPerMessage: number
  /** The work center the devices are bound to (their signals are plain values: no MES facts). */
  workCenterId: string
  nodeArgs?: string[]
}

export interface TelemetryGateway extends GatewayProcess {
  historianFile: string
}

export const telemetryTopic = (device: string) => `devices/${device}/telemetry`

/** A profile whose one topic carries `samples` numeric values, `$.p0` … `$.p{n-1}`. */
function profileYaml(samples: number): string {
  const signals = Array.from({ length: samples }, (_, i) => `  - { name: p${i}, kind: value, topic: "devices/\${device}/telemetry", path: $.p${i} }`)
  return ['profile: bench-telemetry', 'version: 1', 'vendor: bench', 'model: telemetry device', 'protocol: mqtt-json', 'signals:', ...signals, ''].join('\n')
}

/** The broker's accounts (under `mqtt:`) and the devices, one account hash for all of them. */
async function configSections(o: TelemetryGatewayOptions, profileFile: string): Promise<{ mqtt: string; config: string }> {
  // One hash for every account: scrypt is slow on purpose and the bench needs no distinct secrets.
  const hash = await hashPassword(o.password)
  const mqtt = [
    // The per-client flood limit guards the line against a broken device; the bench is the flood.
    '  maxMessagesPerSecond: 10000000',
    '  accounts:',
    ...o.devices.map((d) => `    - { username: ${d}, passwordHash: "${hash}", publish: ["devices/\${username}/#"] }`),
    '',
  ].join('\n')
  const config = ['devices:', ...o.devices.map((d) => `  - { name: ${d}, workCenterId: ${o.workCenterId}, profile: ${profileFile} }`), ''].join('\n')
  return { mqtt, config }
}

export async function startTelemetryGateway(o: TelemetryGatewayOptions): Promise<TelemetryGateway> {
  const profileFile = join(o.dataDir, 'bench-telemetry-profile.yaml')
  writeFileSync(profileFile, profileYaml(o.samplesPerMessage))
  const gateway = await startGatewayProcess({ dataDir: o.dataDir, adminToken: o.adminToken, ...(o.nodeArgs ? { nodeArgs: o.nodeArgs } : {}), ...(await configSections(o, profileFile)) })
  return { ...gateway, historianFile: join(o.dataDir, 'historian.db') }
}
