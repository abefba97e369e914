// The machine simulator on its own: what it exposes, how it moves, and clear errors for bad input, in process and on the command line.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { AttributeIds, OPCUAClient } from 'node-opcua-client'
import t from 'tap'
import { freePort } from '../../test/helpers/client.ts'
import { MachineServer, packmlState } from './machine-server.ts'

const here = dirname(fileURLToPath(import.meta.url))
const work = mkdtempSync(join(tmpdir(), 'takt-opcua-sim-'))
t.teardown(() => rmSync(work, { recursive: true, force: true }))

t.test('PackML nodes in namespace 2 that move while in Execute, and load variables', async (t) => {
  const sim = new MachineServer()
  await sim.start({ port: await freePort(), pkiDir: join(work, 'pki'), cycleTimeMs: 50, extraVariables: 3, extraIntervalMs: 50 })
  t.teardown(() => sim.stop())
  t.equal(sim.nodeId('state'), 'ns=2;s=PackML.Status.StateCurrent', 'the shipped profile’s node ids')
  t.equal(sim.nodeId('measurement:FillWeight'), 'ns=2;s=Machine.Measurements.FillWeight')
  t.equal(sim.nodeId(2), 'ns=2;s=Load.2')
  // A plain client with the simulator's own PKI folder, so no certificate lands in the home directory.
  const { OPCUACertificateManager } = await import('node-opcua-certificate-manager')
  const certificates = new OPCUACertificateManager({ rootFolder: join(work, 'client-pki') })
  const client = OPCUAClient.create({ clientCertificateManager: certificates, connectionStrategy: { maxRetry: 0 }, endpointMustExist: false })
  await client.connect(sim.endpoint)
  const session = await client.createSession()
  t.teardown(async () => {
    await session.close()
    await client.disconnect()
  })
  const read = async (nodeId: string) => (await session.read({ nodeId, attributeId: AttributeIds.Value })).value.value as number
  t.equal(await read(sim.nodeId('state')), packmlState.execute, 'starts in Execute')
  const before = await read(sim.nodeId('processed'))
  const load = await read(sim.nodeId(0))
  await new Promise((resolve) => setTimeout(resolve, 300))
  t.ok((await read(sim.nodeId('processed'))) > before, 'a part per cycle')
  t.ok((await read(sim.nodeId(0))) > load, 'load variables change')
  sim.setState(packmlState.held)
  const held = await read(sim.nodeId('processed'))
  await new Promise((resolve) => setTimeout(resolve, 200))
  t.equal(await read(sim.nodeId('processed')), held, 'no parts while Held')
  t.equal(await read(sim.nodeId('speed')), 0, 'and no speed')
  const range = await session.read({ nodeId: 'ns=2;s=Machine.Measurements.FillWeight', attributeId: AttributeIds.Value })
  t.ok(range.statusCode.isGood(), 'measurements are readable')
  t.throws(() => sim.write('measurement:Nope', 1), /write: no variable ns=2;s=Machine.Measurements.Nope/)
  t.throws(() => sim.setStatus('state', 'BadNonsense'), /'BadNonsense' is not an OPC UA status code name/)
  await t.rejects(sim.start({ port: 1, pkiDir: join(work, 'pki') }), /already started/)
  const taken = Number(new URL(sim.endpoint.replace('opc.tcp', 'http')).port)
  await t.rejects(new MachineServer().start({ port: taken, pkiDir: join(work, 'pki') }), new RegExp(`cannot listen on 127\\.0\\.0\\.1:${taken}`), 'a port in use is named')
})

t.test('the command line refuses bad arguments with a message', async (t) => {
  const run = (...args: string[]) => spawnSync(process.execPath, [join(here, 'machine-server.ts'), ...args], { encoding: 'utf8', timeout: 30_000 })
  const missing = run('--port', '4840')
  t.equal(missing.status, 2, 'no --pki: usage, exit 2')
  t.match(missing.stdout, /--pki DIR/)
  // Each run loads node-opcua (seconds on a busy machine): one run checks both a bad number and a bad user.
  const bad = run('--port', 'x', '--pki', join(work, 'cli-pki'), '--user', 'nocolon')
  t.equal(bad.status, 1, 'bad input: exit 1')
  t.match(bad.stderr, /machine-server: --user must be NAME:PASSWORD/, 'the first problem named')
  t.notMatch(bad.stderr, /nocolon/, 'the would-be password is not echoed')
})
