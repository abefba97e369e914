// The demo line's machines: the shipped demo-line scenario on the demo's ports and speed, and the gateway's side of it (devices, broker account).
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { parse, stringify } from 'yaml'
import { trustCertificateFile, trustedCertificates } from '../connectivity/opcua/pki.ts'
import { startSim, type RunningSim } from '../../simulators/main.ts'
import type { DemoPorts } from './ports.ts'

const scenarios = resolve(import.meta.dirname, '..', '..', 'simulators', 'scenarios')
export const demoScenarioFile = join(scenarios, 'demo-line.yaml')
export const demoGatewayFile = join(scenarios, 'demo-line.takt.yaml')

type Yaml = Record<string, unknown> & { machines?: Array<Record<string, unknown>>; devices?: Array<Record<string, unknown>> }

const portOf: Record<string, keyof DemoPorts> = { press1: 'press', screw1: 'weld', tester1: 'test' }

const readYaml = (file: string) => parse(readFileSync(file, 'utf8')) as Yaml

/** The scenario at this speed and on these ports, written to the data directory (profile paths made absolute). */
export function writeDemoScenario(dir: string, ports: DemoPorts, host: string, timeScale: number): string {
  const s = readYaml(demoScenarioFile)
  s.timeScale = timeScale
  s.control = { host, port: ports.control }
  for (const m of s.machines ?? []) {
    m.profile = resolve(scenarios, String(m.profile))
    const port = portOf[String(m.name)]
    if (m.modbus && port) m.modbus = { ...(m.modbus as object), port: ports[port] }
    if (m.opcua && port) m.opcua = { ...(m.opcua as object), port: ports[port] }
    if (m.sparkplug) m.sparkplug = { ...(m.sparkplug as object), broker: `mqtt://${host}:${ports.mqtt}` }
  }
  const file = join(dir, 'demo-line.yaml')
  mkdirSync(dir, { recursive: true })
  writeFileSync(file, `# Written by takt demo at each start from ${demoScenarioFile}.\n${stringify(s)}`)
  return file
}

/** The gateway's devices and broker accounts for the scenario: the shipped demo-line.takt.yaml on the demo's ports. */
export function demoGatewaySection(ports: DemoPorts, host: string): { devices: Array<Record<string, unknown>>; accounts: unknown[] } {
  const g = readYaml(demoGatewayFile)
  const devices = (g.devices ?? []).map((d) => {
    const out: Record<string, unknown> = { ...d, profile: resolve(dirname(demoGatewayFile), String(d.profile)) }
    const port = portOf[String(d.name)]
    if (port && d.endpoint) out.endpoint = `opc.tcp://${host}:${ports[port]}`
    if (port && d.host) Object.assign(out, { host, port: ports[port] })
    return out
  })
  const mqtt = (g.mqtt ?? {}) as { accounts?: unknown[] }
  return { devices, accounts: mqtt.accounts ?? [] }
}

/**
 * Starts the simulated machines, then has the gateway trust the OPC UA machines by their certificates,
 * copied into its PKI — for the demo only: a real line keeps the technician's `takt opcua trust` step.
 * The simulated machines trust any client. The Sparkplug labeler keeps trying the broker until the
 * gateway is up.
 */
export async function startDemoSim(scenarioFile: string, dataDir: string, host: string, log: (line: string) => void): Promise<RunningSim> {
  const simPki = join(dataDir, 'sim-pki')
  const sim = await startSim(scenarioFile, { pkiDir: simPki, host, log })
  try {
    const gatewayPki = join(dataDir, 'opcua-pki')
    const machines = sim.sim.loaded.scenario.machines.filter((m) => m.opcua).map((m) => m.name)
    for (const machine of machines) trustCertificateFile(gatewayPki, join(simPki, machine, 'own', 'certs', 'certificate.pem'))
    const trusted = new Set(trustedCertificates(gatewayPki).map((c) => c.thumbprint))
    if (trusted.size < machines.length) throw new Error(`the gateway's PKI in ${gatewayPki} trusts ${trusted.size} certificates, not the ${machines.length} of the simulated OPC UA machines`)
  } catch (error) {
    await sim.stop()
    throw error
  }
  return sim
}
