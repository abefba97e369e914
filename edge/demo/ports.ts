// The demo's listening ports: each one named by the environment variable that sets it, checked free before anything starts.
import { createServer } from 'node:net'

export interface DemoPort {
  /** The environment variable that sets it. */
  variable: string
  /** What listens on it, in the banner's words. */
  what: string
  fallback: number
}

/** Every port `takt demo` opens, in start order; 0 in any of them picks a free port. */
export const demoPorts = {
  cloud: { variable: 'TAKT_CLOUD_PORT', what: 'cloud-sync: central API and dashboard', fallback: 8090 },
  http: { variable: 'TAKT_HTTP_PORT', what: 'gateway: HMI and API', fallback: 8080 },
  mqtt: { variable: 'TAKT_MQTT_PORT', what: 'gateway: embedded MQTT broker', fallback: 1884 },
  press: { variable: 'TAKT_DEMO_PRESS_PORT', what: 'simulated press (Modbus TCP)', fallback: 15020 },
  weld: { variable: 'TAKT_DEMO_WELD_PORT', what: 'simulated weld cell (OPC UA, Sign)', fallback: 48402 },
  test: { variable: 'TAKT_DEMO_TEST_PORT', what: 'simulated leak tester (OPC UA, SignAndEncrypt)', fallback: 48401 },
  control: { variable: 'TAKT_DEMO_CONTROL_PORT', what: 'simulator control endpoint (faults, planned stops)', fallback: 48480 },
} as const satisfies Record<string, DemoPort>

export type PortName = keyof typeof demoPorts
export type DemoPorts = Record<PortName, number>

/** A problem with the demo's setup a visitor fixes by changing one variable: reported as one line, never a stack trace. */
export class DemoSetupError extends Error {}

export function portsFrom(env: NodeJS.ProcessEnv): DemoPorts {
  const out = {} as DemoPorts
  const problems: string[] = []
  for (const [name, p] of Object.entries(demoPorts) as Array<[PortName, DemoPort]>) {
    const text = env[p.variable]
    if (text === undefined || text === '') {
      out[name] = p.fallback
      continue
    }
    if (!/^\d+$/.test(text) || Number(text) > 65535) problems.push(`${p.variable}: '${text}' is not a port number (0 to 65535)`)
    out[name] = Number(text)
  }
  if (problems.length > 0) throw new DemoSetupError(problems.join('; '))
  const given = Object.entries(out).filter(([, port]) => port !== 0)
  for (const [i, [name, port]] of given.entries()) {
    const other = given.slice(0, i).find(([, p]) => p === port)
    if (other) throw new DemoSetupError(`${demoPorts[name as PortName].variable} and ${demoPorts[other[0] as PortName].variable} are both ${port}; give each its own port`)
  }
  return out
}

function tryListen(host: string, port: number): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer()
    server.once('error', fail)
    server.listen({ host, port, exclusive: true }, () => {
      const got = (server.address() as { port: number }).port
      server.close(() => done(got))
    })
  })
}

/** The one line a taken port is reported with. */
export function portTaken(name: PortName, port: number): DemoSetupError {
  const p = demoPorts[name]
  return new DemoSetupError(`port ${port} (${p.what}) is already in use; set ${p.variable} to a free port (0 picks one)`)
}

/**
 * Checks that every given port is free and picks one for each 0, before anything starts: the
 * machines' and the broker's ports go into the gateway's and the simulators' configuration.
 * A port can still be taken between the check and the start; the start reports that the same way.
 */
export async function claimPorts(host: string, wanted: DemoPorts): Promise<DemoPorts> {
  const out = { ...wanted }
  const picked = new Set<number>()
  for (const name of Object.keys(wanted) as PortName[]) {
    try {
      let port = await tryListen(host, wanted[name])
      // Two zeros must not be given the same free port.
      while (wanted[name] === 0 && picked.has(port)) port = await tryListen(host, 0)
      picked.add(port)
      out[name] = port
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code
      if (code === 'EADDRINUSE' || code === 'EACCES') throw portTaken(name, wanted[name])
      if (code === 'EADDRNOTAVAIL') throw new DemoSetupError(`TAKT_HTTP_HOST: '${host}' is not an address of this machine`)
      throw error
    }
  }
  return out
}

/** Names the port behind an EADDRINUSE thrown at start (after the check), when the error says which. */
export function explainListenError(error: unknown, ports: DemoPorts): DemoSetupError | null {
  const e = error as NodeJS.ErrnoException & { port?: number }
  const text = `${e?.message ?? ''} ${String((e as { cause?: { message?: string } })?.cause?.message ?? '')}`
  if (e?.code !== 'EADDRINUSE' && !/EADDRINUSE|already in use/.test(text)) return null
  for (const name of Object.keys(ports) as PortName[]) {
    if (ports[name] === 0) continue
    if (e.port === ports[name] || new RegExp(`[^0-9]${ports[name]}(?![0-9])`).test(` ${text}`)) return portTaken(name, ports[name])
  }
  return new DemoSetupError(`a port the demo needs is already in use (${text.trim().split('\n')[0]}); set the port variables shown by takt demo --help`)
}
