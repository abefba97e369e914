// Browsing the simulator's address space: variables with type and access, depth and size limits, the text table, a profile skeleton that loads.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { checkProfileText } from '../../../hardware-profiles/load.ts'
import { MachineServer } from '../../../simulators/opcua/machine-server.ts'
import { freePort } from '../../../test/helpers/client.ts'
import { browse, formatVariables, profileSkeleton } from './browse.ts'

const work = mkdtempSync(join(tmpdir(), 'takt-opcua-browse-'))
const pkiDir = join(work, 'client-pki')
const sim = new MachineServer()
t.before(async () => sim.start({ port: await freePort(), pkiDir: join(work, 'server-pki'), extraVariables: 30 }))
t.teardown(async () => {
  await sim.stop()
  rmSync(work, { recursive: true, force: true })
})

t.test('every variable under Objects, with data type, access and path', async (t) => {
  const result = await browse(sim.endpoint, { pkiDir })
  t.equal(result.truncated, false, 'the whole address space fits the default limit')
  const state = result.variables.find((v) => v.nodeId === 'ns=2;s=PackML.Status.StateCurrent')
  t.same(state, { nodeId: 'ns=2;s=PackML.Status.StateCurrent', browsePath: '/2:PackML/2:Status/2:StateCurrent', browseName: 'StateCurrent', dataType: 'Int32', accessLevel: ['CurrentRead'] })
  t.match(result.variables.find((v) => v.browseName === 'CycleTime'), { dataType: 'Double', browsePath: '/2:Machine/2:CycleTime' })
  t.ok(result.variables.some((v) => v.browsePath === '/2:PackML/2:Admin/2:ProdProcessedCount[0]/2:AccCount'), 'counters under their PackML path')
  t.notOk(result.variables.some((v) => v.browseName === 'EURange'), 'properties are not listed as signals')
  t.notOk(result.variables.some((v) => v.nodeId.startsWith('ns=0;')), 'the standard Server object is skipped')
  t.equal(result.variables.filter((v) => v.browsePath.startsWith('/2:Load/')).length, 30, 'the load variables')
})

t.test('depth, start node and the variable limit', async (t) => {
  const shallow = await browse(sim.endpoint, { pkiDir, maxDepth: 2 })
  t.ok(shallow.variables.some((v) => v.browseName === 'CycleTime'), 'depth 2 reaches Machine/CycleTime')
  t.notOk(shallow.variables.some((v) => v.browseName === 'StateCurrent'), 'but not PackML/Status/StateCurrent at depth 3')
  const status = await browse(sim.endpoint, { pkiDir, startNodeId: 'ns=2;s=PackML.Status' })
  t.same(status.variables.map((v) => v.browsePath).sort(), ['/2:CurMachSpeed', '/2:StateCurrent', '/2:UnitModeCurrent'], 'paths are relative to the start node')
  const limited = await browse(sim.endpoint, { pkiDir, startNodeId: 'ns=2;s=Load', maxVariables: 10 })
  t.equal(limited.variables.length, 10, 'stops at the limit')
  t.equal(limited.truncated, true, 'and says so')
  const exact = await browse(sim.endpoint, { pkiDir, startNodeId: 'ns=2;s=Load', maxVariables: 30 })
  t.equal(exact.truncated, false, 'a limit exactly met is not a truncation')
  const server = await browse(sim.endpoint, { pkiDir, includeServerObject: true, maxDepth: 2 })
  t.ok(server.variables.some((v) => v.nodeId === 'ns=0;i=2256'), 'the Server object when asked for (ServerStatus)')
})

t.test('bad input is a clear error', async (t) => {
  await t.rejects(browse(sim.endpoint, { pkiDir, startNodeId: 'PackML' }), /start node 'PackML' is not a NodeId/)
  await t.rejects(browse(sim.endpoint, { pkiDir, maxDepth: 0 }), /maxDepth must be a whole number from 1 to 50/)
  await t.rejects(browse(`opc.tcp://127.0.0.1:${await freePort()}`, { pkiDir }), /connection: ECONNREFUSED/)
})

t.test('the text table and the profile skeleton', async (t) => {
  const result = await browse(sim.endpoint, { pkiDir, startNodeId: 'ns=2;s=PackML' })
  const text = formatVariables(result)
  t.match(text, /^NodeId\s+Data type\s+Access\s+Browse path\n/, 'a header')
  t.match(text, /ns=2;s=PackML\.Status\.StateCurrent\s+Int32\s+r\s+\/2:Status\/2:StateCurrent\n/, 'a row per variable')
  t.match(text, /6 variables under ns=2;s=PackML at opc\.tcp:\/\//, 'a summary')
  const yaml = profileSkeleton(result, { profile: 'line1-filler', securityMode: 'Sign', securityPolicy: 'Basic256Sha256' })
  const loaded = checkProfileText(yaml, 'skeleton.yaml')
  t.ok(loaded.ok, 'the skeleton loads as a hardware profile as it stands')
  if (!loaded.ok || loaded.profile.protocol !== 'opcua') return
  t.same(loaded.profile.connection, { securityMode: 'Sign', securityPolicy: 'Basic256Sha256', publishingIntervalMs: 1000 })
  t.same(
    loaded.profile.signals.map((s) => [s.name, s.nodeId]),
    [
      ['state_current', 'ns=2;s=PackML.Status.StateCurrent'],
      ['unit_mode_current', 'ns=2;s=PackML.Status.UnitModeCurrent'],
      ['cur_mach_speed', 'ns=2;s=PackML.Status.CurMachSpeed'],
      ['prod_processed_count_0.acc_count', 'ns=2;s=PackML.Admin.ProdProcessedCount[0].AccCount'],
      ['prod_defective_count_0.acc_count', 'ns=2;s=PackML.Admin.ProdDefectiveCount[0].AccCount'],
      ['stop_reason.id', 'ns=2;s=PackML.Admin.StopReason.ID'],
    ],
    'one signal per variable; where names collide the parent is put in front',
  )
  t.match(yaml, /kind: value # Int32, CurrentRead, \/2:Status\/2:StateCurrent/, 'each signal says what it is')
  t.throws(() => profileSkeleton(result, { profile: 'Line 1' }), /profile name 'Line 1' must be lower-case/)
  t.throws(() => profileSkeleton({ ...result, variables: [] }, { profile: 'empty' }), /no readable variables under ns=2;s=PackML/)
})

t.test('a node id with quotes, as Siemens S7-1500 names them, survives the YAML', async (t) => {
  const yaml = profileSkeleton(
    { endpoint: 'opc.tcp://plc:4840', startNodeId: 'i=85', truncated: false, variables: [{ nodeId: 'ns=3;s="DB_Machine"."State"', browsePath: '/3:DB_Machine/3:State', browseName: 'State', dataType: 'Int16', accessLevel: ['CurrentRead', 'CurrentWrite'] }] },
    { profile: 's7' },
  )
  const loaded = checkProfileText(yaml, 's7.yaml')
  t.ok(loaded.ok && loaded.profile.protocol === 'opcua' && loaded.profile.signals[0]!.nodeId === 'ns=3;s="DB_Machine"."State"', 'the node id is exact after loading')
})
