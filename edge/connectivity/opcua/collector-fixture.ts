// Shared by the OPC UA collector tests: a simulator with a known certificate, a client PKI that trusts it, a collector that keeps what it sends.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import pino from 'pino'
import { checkProfileFile } from '../../../hardware-profiles/load.ts'
import { MachineServer, type MachineServerOptions } from '../../../simulators/opcua/machine-server.ts'
import { freePort } from '../../../test/helpers/client.ts'
import type { Sample } from '../../historian/historian.ts'
import { OpcUaCollector, type OpcUaCollectorOptions, type OpcUaProfile } from './collector.ts'

export interface Teardown {
  teardown(fn: () => unknown): void
}

export interface Fixture {
  work: string
  serverPki: string
  /** One client PKI per test file, trusting the simulator's certificate, as a commissioned gateway would. */
  clientPki: string
  remove(): void
}

export const silent = pino({ level: 'silent' })
const root = join(dirname(fileURLToPath(import.meta.url)), '../../..')

/** Starts the simulator once so it makes its certificate, and trusts that in a fresh client PKI. */
export async function fixture(prefix: string): Promise<Fixture> {
  const work = mkdtempSync(join(tmpdir(), `takt-opcua-${prefix}-`))
  const serverPki = join(work, 'server-pki')
  const clientPki = join(work, 'client-pki')
  const first = new MachineServer()
  await first.start({ port: await freePort(), pkiDir: serverPki })
  await first.stop()
  mkdirSync(join(clientPki, 'trusted', 'certs'), { recursive: true })
  copyFileSync(join(serverPki, 'own', 'certs', 'certificate.pem'), join(clientPki, 'trusted', 'certs', 'simulator.pem'))
  return { work, serverPki, clientPki, remove: () => rmSync(work, { recursive: true, force: true }) }
}

export function packmlProfile(connection: Partial<OpcUaProfile['connection']> = {}): OpcUaProfile {
  const result = checkProfileFile(join(root, 'hardware-profiles/packml-opcua-machine.yaml'))
  if (!result.ok || result.profile.protocol !== 'opcua') throw new Error('the shipped PackML profile does not load')
  return { ...result.profile, connection: { ...result.profile.connection, ...connection } }
}

export async function machine(t: Teardown, f: Fixture, options: Partial<MachineServerOptions> = {}): Promise<MachineServer> {
  const server = new MachineServer()
  await server.start({ port: await freePort(), pkiDir: f.serverPki, ...options })
  t.teardown(() => server.stop())
  return server
}

/** A started collector of device filler1 whose samples are kept: the latest per signal and all in order. */
export function collect(t: Teardown, f: Fixture, options: Partial<OpcUaCollectorOptions> & { endpoint: string }) {
  const latest = new Map<string, Sample>()
  const all: Sample[] = []
  const collector = new OpcUaCollector({
    device: 'filler1',
    pkiDir: f.clientPki,
    profile: packmlProfile(),
    logger: silent,
    sink: (samples) => {
      for (const s of samples) latest.set(s.signal, s), all.push(s)
    },
    ...options,
  })
  collector.start()
  t.teardown(() => collector.stop())
  const until = async (check: () => boolean, ms = 20_000) => {
    for (const end = Date.now() + ms; !check() && Date.now() < end; ) await new Promise((resolve) => setTimeout(resolve, 50))
    return check()
  }
  const get = (name: string) => latest.get(`filler1/${name}`)
  return { collector, latest, all, get, until }
}

export const everyGood = (latest: Map<string, Sample>, n: number) => latest.size === n && [...latest.values()].every((s) => s.quality === 'good')
