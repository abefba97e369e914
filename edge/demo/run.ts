// The demo line's composition root: ports checked, cloud, machines, gateway, orders and crew started in that order, stopped in reverse on a signal.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse, stringify } from 'yaml'
import { CloudConfigError, startCloud, type RunningCloud } from '../../cloud-sync/main.ts'
import type { RunningSim } from '../../simulators/main.ts'
import { ConfigError, loadConfig } from '../config.ts'
import { demoPassword, demoPeople, demoRouting } from '../demo-line.ts'
import { demoAdminToken, demoBadge, demoPin, seedDemoLine } from '../demo.ts'
import { startGateway, type RunningGateway } from '../main.ts'
import { postDefinitions, provisionGateway } from './cloud-link.ts'
import { LineCrew, type Station } from './crew.ts'
import { demoGatewaySection, startDemoSim, writeDemoScenario } from './line-sim.ts'
import { OrderBook } from './order-book.ts'
import { claimPorts, DemoSetupError, explainListenError, type DemoPorts } from './ports.ts'
import type { DemoSettings } from './settings.ts'

const lineId = 'L1'

/** The gateway's configuration: the demo line's devices and broker account on the claimed ports, syncing with the demo cloud. */
function writeGatewayConfig(dir: string, s: DemoSettings, ports: DemoPorts, cloudUrl: string): string {
  const section = demoGatewaySection(ports, s.host)
  const config = {
    dataDir: s.dataDir,
    gatewayId: s.gatewayId,
    http: { host: s.host, port: ports.http },
    mqtt: { host: s.host, port: ports.mqtt, accounts: section.accounts },
    devices: section.devices,
    // The token is given in the environment (TAKT_SYNC_TOKEN), never written here.
    sync: { url: cloudUrl, lineId, idleMs: 1000, maxBackoffMs: 5000 },
  }
  const file = join(dir, 'gateway.yaml')
  writeFileSync(file, `# Written by takt demo at each start: the demo line's gateway.\n${stringify(config)}`, { mode: 0o600 })
  return file
}

/** An operator at each operation of the routing: qualified for it, the station's pace and scrap that of its simulated machine. */
function crewStations(scenarioFile: string, devices: Array<Record<string, unknown>>, now: Date): Station[] {
  const machines = (parse(readFileSync(scenarioFile, 'utf8')) as { machines: Array<{ name: string; cycleTime: { mean: number }; scrapRate?: number }> }).machines
  const operators = demoPeople(now).filter((p) => p.roles.includes('operator'))
  const load = new Map<string, number>()
  return demoRouting.operations.map((op) => {
    const qualified = operators.filter((p) => op.qualification === null || p.qualifications.some((q) => q.code === op.qualification && (q.expiresAt === null || Date.parse(q.expiresAt) > now.getTime())))
    const person = qualified.sort((a, b) => (load.get(a.id) ?? 0) - (load.get(b.id) ?? 0))[0]
    if (!person) throw new Error(`no demo operator holds the ${op.qualification} qualification of operation ${op.seq}`)
    load.set(person.id, (load.get(person.id) ?? 0) + 1)
    const device = devices.find((d) => d.workCenterId === op.workCenterId)
    const machine = machines.find((m) => m.name === device?.name)
    return { workCenterId: op.workCenterId, opSeq: op.seq, badgeId: demoBadge(person.id), pin: demoPin, cycleS: machine?.cycleTime.mean ?? op.idealCycleTimeS ?? 30, scrapRate: machine?.scrapRate ?? 0.01 }
  })
}

function banner(s: DemoSettings, ports: DemoPorts, gatewayUrl: string, cloudUrl: string, seeded: boolean, orders: number, machines: string[]): string {
  const token = s.adminToken === demoAdminToken ? demoAdminToken : '(from TAKT_ADMIN_TOKEN)'
  return [
    '',
    `Takt demo line ${seeded ? 'loaded' : 'resumed'} (data in ${s.dataDir}; ${s.speed}× real time)`,
    `  HMI        ${gatewayUrl}/   (operators: badge ${demoBadge('ana')} or ${demoBadge('ben')}, PIN ${demoPin})`,
    `  Dashboard  ${cloudUrl}/dashboard   (log in with the admin token)`,
    `  Gateway    ${gatewayUrl}/api/v1   (OpenAPI: ${gatewayUrl}/openapi.json, health: ${gatewayUrl}/health)`,
    `  Cloud      ${cloudUrl}/api/v1   (${orders} orders of line ${lineId} sent to it)`,
    `  MQTT       mqtt://${s.host}:${ports.mqtt}`,
    `  Admin API token (gateway and cloud): ${token}`,
    `  Logins (password '${demoPassword}'): ana, ben (operators), lea (lead), quinn (quality)`,
    `  Machines:`,
    ...machines.map((m) => `    ${m}`),
    `  Crew: ${s.crew ? 'lea releases and dispatches, ana and ben work the dispatch lists' : 'off (TAKT_DEMO_CREW=off)'}`,
    '  Ports and speed: see takt demo --help. Ctrl-C stops the demo.',
    '',
  ].join('\n')
}

export interface RunningDemo {
  gateway: RunningGateway
  cloud: RunningCloud
  sim: RunningSim
  crew: LineCrew | null
  gatewayUrl: string
  cloudUrl: string
  stop(): Promise<void>
  /** The part being stopped now, for a message when stopping takes too long. */
  stopping(): string | null
}

/** Longest the demo waits for one part (crew, gateway, machines, cloud) to stop. */
const partStopMs = 9000

/** Starts the demo line; on a failure, what already started is stopped before the error is thrown. */
export async function startDemoLine(s: DemoSettings, log: (line: string) => void = () => {}): Promise<{ running: RunningDemo; banner: string }> {
  const stops: Array<{ part: string; stop: () => Promise<void> }> = []
  let stoppingPart: string | null = null
  const stopAll = async () => {
    for (const { part, stop } of stops.reverse().splice(0)) {
      stoppingPart = part
      // Each part gets a bound: one caught mid-handshake is left to the process's exit, the others still stop.
      let timer: NodeJS.Timeout | undefined
      const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), partStopMs)))
      const outcome = await Promise.race([stop().then(() => 'stopped' as const, () => 'stopped' as const), late])
      clearTimeout(timer)
      if (outcome === 'late') process.stderr.write(`demo: ${part} did not stop within ${partStopMs / 1000} s; it ends with the process\n`)
    }
    stoppingPart = null
  }
  let ports = s.ports
  try {
    ports = await claimPorts(s.host, s.ports)
    const demoDir = join(s.dataDir, 'demo')
    mkdirSync(demoDir, { recursive: true })
    const cloud = await startCloud({ dataDir: join(s.dataDir, 'cloud'), host: s.host, port: ports.cloud, databaseUrl: null, adminToken: s.adminToken, logLevel: s.logLevel })
    stops.push({ part: 'the cloud', stop: () => cloud.stop() })
    const token = await provisionGateway(cloud.url, s.adminToken, cloud.db.orm, demoDir, s.gatewayId, lineId)
    const scenarioFile = writeDemoScenario(demoDir, ports, s.host, s.speed)
    const machineLines: string[] = []
    const sim = await startDemoSim(scenarioFile, s.dataDir, s.host, (line) => machineLines.push(line))
    stops.push({ part: 'the simulated machines', stop: () => sim.stop() })
    const configFile = writeGatewayConfig(demoDir, s, ports, cloud.url)
    const env = { TAKT_ADMIN_TOKEN: s.adminToken, TAKT_SYNC_TOKEN: token, TAKT_LOG_LEVEL: s.logLevel, ...(process.env.TAKT_HTTP_TLS ? { TAKT_HTTP_TLS: process.env.TAKT_HTTP_TLS } : {}) }
    const gateway = await startGateway(loadConfig({ file: configFile, env }))
    stops.push({ part: 'the gateway', stop: () => gateway.stop() })
    const now = new Date()
    const seeded = await seedDemoLine(gateway.gateway, now)
    const book = new OrderBook(demoDir, lineId, now, (definitions) => postDefinitions(cloud.url, s.adminToken, lineId, definitions))
    const sent = await book.send()
    const gatewayUrl = `${gateway.scheme}://${s.host}:${gateway.port}`
    let crew: LineCrew | null = null
    if (s.crew && gateway.scheme === 'http') {
      const lead = demoPeople(now).find((p) => p.roles.includes('lead'))!
      crew = new LineCrew({
        baseUrl: gatewayUrl,
        stations: crewStations(scenarioFile, demoGatewaySection(ports, s.host).devices, now),
        lead: { username: lead.id, password: demoPassword },
        speed: s.speed,
        log: gateway.gateway.logger.child({ module: 'demo-crew' }),
        onRunningLow: async () => {
          const n = await book.sendNextDay()
          gateway.gateway.logger.info({ orders: n, day: book.days }, 'demo: the next day of orders sent to the cloud')
        },
      })
      crew.start()
      const started = crew
      stops.push({ part: 'the crew', stop: () => started.stop() })
    } else if (s.crew) log('The demo crew needs plain HTTP to the gateway; with TAKT_HTTP_TLS on it stays home.')
    const running: RunningDemo = { gateway, cloud, sim, crew, gatewayUrl, cloudUrl: cloud.url, stop: stopAll, stopping: () => stoppingPart }
    return { running, banner: banner(s, ports, gatewayUrl, cloud.url, seeded, sent.orders, machineLines) }
  } catch (error) {
    await stopAll()
    if (error instanceof DemoSetupError) throw error
    // The gateway names a taken HTTP port by the variable the demo also uses; the rest is said in one line too.
    if (error instanceof ConfigError) throw new DemoSetupError(error.problems.join('; '))
    if (error instanceof CloudConfigError) throw explainListenError(error, ports) ?? new DemoSetupError(error.message)
    throw explainListenError(error, ports) ?? error
  }
}
