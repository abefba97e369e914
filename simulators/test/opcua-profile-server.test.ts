// The profile server on its own, read by a plain node-opcua client: the nodes and types a profile calls for, values and statuses set from outside, security, users and bad input.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { AttributeIds, DataType, makeBrowsePath, MessageSecurityMode, OPCUAClient, SecurityPolicy, TimestampsToReturn, UserTokenType, VariableIds, type ClientSession, type DataValue } from 'node-opcua-client'
import t from 'tap'
import { clientCertificates, trustCertificateFile } from '../../edge/connectivity/opcua/pki.ts'
import { HardwareProfile } from '../../hardware-profiles/schema.ts'
import { ProfileServer, signalDataType, type OpcUaProfile } from '../opcua/profile-server.ts'

const work = mkdtempSync(join(tmpdir(), 'takt-sim-profile-server-'))
t.teardown(() => rmSync(work, { recursive: true, force: true }))

const guid = 'ns=4;g=72962B91-FA75-4AE6-8D28-B404DC7DAF63'
function profile(connection: Record<string, unknown> = {}): OpcUaProfile {
  const p = HardwareProfile.parse({
    profile: 'test-cell',
    version: 1,
    protocol: 'opcua',
    connection,
    signals: [
      { name: 'mode', kind: 'machine_state', nodeId: 'ns=2;s=Cell.Mode', stateMap: { AUTO: 'running', MANUAL: 'setup', FAULT: 'down' } },
      { name: 'state', kind: 'machine_state', nodeId: 'ns=3;s="DB_Cell"."State"', stateMap: { '0': 'down', '2': 'running' } },
      { name: 'parts', kind: 'total_count', nodeId: 'ns=2;i=1001' },
      { name: 'good', kind: 'good_count', nodeId: 'ns=3;s="DB_Cell"."Good"', counterWrap: 4294967295 },
      { name: 'pressure', kind: 'measurement', unit: 'bar', nodeId: guid, deadband: { type: 'percent', value: 1 } },
      { name: 'door_open', kind: 'alarm', nodeId: 'ns=2;b=AQID' },
      { name: 'reason', kind: 'stop_reason', nodeId: 'ns=2;s=Cell.StopReason' },
    ],
  })
  if (p.protocol !== 'opcua') throw new Error('opcua')
  return p
}

async function served(t: { teardown(fn: () => unknown): void }, options: Partial<ConstructorParameters<typeof ProfileServer>[0]> = {}) {
  const server = new ProfileServer({ profile: profile(), port: 0, pkiDir: join(work, 'server-pki'), ranges: { pressure: { low: 0, high: 250 } }, ...options })
  const endpoint = await server.start()
  t.teardown(() => server.stop())
  return { server, endpoint }
}

/** A plain client, its PKI in the work folder (never the home directory); it trusts only what is in trusted/. */
const client = (security: { securityMode?: MessageSecurityMode; securityPolicy?: SecurityPolicy } = {}) =>
  OPCUAClient.create({ clientCertificateManager: clientCertificates(join(work, 'client-pki')), connectionStrategy: { maxRetry: 0 }, endpointMustExist: false, ...security })

async function open(t: { teardown(fn: () => unknown): void }, endpoint: string): Promise<{ session: ClientSession }> {
  const c = client()
  await c.connect(endpoint)
  t.teardown(() => c.disconnect())
  const session = await c.createSession()
  t.teardown(() => session.close().catch(() => {}))
  return { session }
}

const read = (session: ClientSession, nodeId: string, attributeId = AttributeIds.Value) => session.read({ nodeId, attributeId })

t.test('the nodes the profile names, each with a type that fits its signal, in the namespaces it uses', async (t) => {
  const { server, endpoint } = await served(t, { namespaceUris: ['urn:cell', 'http://www.siemens.com/simatic-s7-opcua'] })
  t.match(endpoint, /^opc\.tcp:\/\/127\.0\.0\.1:\d+$/, 'port 0: a free port, named in the URL')
  const { session } = await open(t, endpoint)
  const namespaces = (await read(session, `i=${VariableIds.Server_NamespaceArray}`)).value.value as string[]
  t.same(namespaces.slice(2), ['urn:cell', 'http://www.siemens.com/simatic-s7-opcua', 'urn:takt:simulator:test-cell:ns4'], 'namespaces 2–4 registered in order, so ns=3 and ns=4 resolve')
  const types: Record<string, number> = {}
  for (const s of profile().signals) {
    const dataType = await read(session, s.nodeId, AttributeIds.DataType)
    t.ok(dataType.statusCode.isGood(), `${s.nodeId} exists`)
    types[s.name] = (dataType.value.value as { value: number }).value
  }
  t.same(types, { mode: DataType.String, state: DataType.Int32, parts: DataType.Int64, good: DataType.UInt32, pressure: DataType.Double, door_open: DataType.Boolean, reason: DataType.Int32 }, 'String for a text state map, Int32 for a numeric one, Int64 for a counter that never wraps, UInt32 for one at 2^32 − 1')
  t.equal((await read(session, guid, AttributeIds.MinimumSamplingInterval)).value.value, 0, 'MinimumSamplingInterval 0: values are pushed, not polled')
  const range = await session.translateBrowsePath(makeBrowsePath(guid, '.EURange'))
  t.ok(range.statusCode.isGood(), 'a measurement is an AnalogItem with an EURange property')
  t.match((await read(session, range.targets![0]!.targetId.toString())).value.value, { low: 0, high: 250 }, 'the range given for it')
  t.equal((await read(session, 'ns=2;s=Cell.Mode')).statusCode.name, 'BadWaitingForInitialData', 'no value before the simulator sets one')
  const write = await session.write({ nodeId: 'ns=2;s=Cell.StopReason', attributeId: AttributeIds.Value, value: { value: { dataType: DataType.Int32, value: 3 } } })
  t.not(write.name, 'Good', `clients cannot write a machine's status (${write.name})`)
  t.equal(server.variable('pressure').dataType, 'Double', 'server side: the same type')
  t.equal(signalDataType({ name: 'x', kind: 'reject_count', nodeId: 'ns=2;s=x', counterWrap: 32767 }), DataType.Int32, 'a small wrap is a DINT')
})

t.test('values, statuses and source timestamps set from outside; every change reaches a monitored item', async (t) => {
  const { server, endpoint } = await served(t)
  const { session } = await open(t, endpoint)
  const at = Date.parse('2026-03-01T08:00:00Z')
  server.set('parts', 2 ** 40 + 7, { sourceTimestamp: at })
  const parts = await read(session, 'ns=2;i=1001')
  t.same(parts.value.value, [256, 7], 'an Int64 beyond 32 bits, as [high, low]')
  t.equal(parts.sourceTimestamp?.getTime(), at, 'with the source timestamp given')
  server.set('mode', 'AUTO')
  t.equal((await read(session, 'ns=2;s=Cell.Mode')).value.value, 'AUTO', 'a text state')
  server.set('pressure', 101.5, { status: 'UncertainLastUsableValue' })
  t.match(await read(session, guid), { value: { value: 101.5 }, statusCode: { name: 'UncertainLastUsableValue' } }, 'an Uncertain value is kept')
  server.setStatus('pressure', 'BadSensorFailure')
  const bad = await read(session, guid)
  t.equal(bad.statusCode.name, 'BadSensorFailure', 'setStatus: the status')
  t.equal(bad.value.dataType, DataType.Null, 'a Bad value is null (OPC 10000-4 7.7.1)')
  t.same(server.read('pressure'), { value: null, status: 'BadSensorFailure', sourceTimestamp: bad.sourceTimestamp }, 'server side: the same')

  const subscription = await session.createSubscription2({ requestedPublishingInterval: 50, requestedMaxKeepAliveCount: 20, requestedLifetimeCount: 60, publishingEnabled: true })
  const item = await subscription.monitor({ nodeId: 'ns=2;s=Cell.StopReason', attributeId: AttributeIds.Value }, { samplingInterval: 0, queueSize: 100, discardOldest: true }, TimestampsToReturn.Both)
  const seen: number[] = []
  item.on('changed', (dv: DataValue) => void (dv.statusCode.isGood() && seen.push(dv.value.value as number)))
  await new Promise((r) => setTimeout(r, 200))
  for (let i = 1; i <= 5; i++) {
    server.set('reason', i)
    await new Promise((r) => setTimeout(r, 120))
  }
  for (let i = 0; i < 40 && seen.at(-1) !== 5; i++) await new Promise((r) => setTimeout(r, 50))
  t.same(seen, [1, 2, 3, 4, 5], 'sampling interval 0 on MinimumSamplingInterval 0: every change, none merged')
  const sampled = await subscription.monitor({ nodeId: guid, attributeId: AttributeIds.Value }, { samplingInterval: 50, queueSize: 1 }, TimestampsToReturn.Both)
  t.equal(sampled.result?.revisedSamplingInterval, 50, 'a fast sampling interval is granted, not clamped to 1000 ms')
  await subscription.terminate()
  t.equal(server.sessionCount, 1, 'server side: one session')
  server.dropClients()
  t.equal(server.sessionCount, 0, 'dropClients closes it')
})

t.test('security as the profile asks, and users', async (t) => {
  const { server, endpoint } = await served(t, { profile: profile({ securityMode: 'SignAndEncrypt', securityPolicy: 'Basic256Sha256' }), users: [{ username: 'line1', password: 'pw-line1' }] })
  // Discovery (GetEndpoints) works on an unsecured channel (OPC 10000-4 5.4.4); sessions do not.
  const discovery = client()
  await discovery.connect(endpoint)
  t.teardown(() => discovery.disconnect())
  const endpoints = await discovery.getEndpoints()
  const offered = endpoints.map((e) => `${MessageSecurityMode[e.securityMode]} ${e.securityPolicyUri?.split('#')[1]}`)
  t.same([...new Set(offered)], ['SignAndEncrypt Basic256Sha256'], 'only the mode and policy the profile asks for')
  const tokens = new Set(endpoints.flatMap((e) => (e.userIdentityTokens ?? []).map((u) => UserTokenType[u.tokenType])))
  t.ok(tokens.has('UserName') && !tokens.has('Anonymous'), `with users, no anonymous token policy is offered (${[...tokens].join(', ')})`)
  await t.rejects(discovery.createSession(), /End point must exist|BadSecurity/, 'no session without the security the profile asks for')
  trustCertificateFile(join(work, 'client-pki'), server.certificateFile)
  const secure = client({ securityMode: MessageSecurityMode.SignAndEncrypt, securityPolicy: SecurityPolicy.Basic256Sha256 })
  await secure.connect(endpoint)
  t.teardown(() => secure.disconnect())
  await t.rejects(secure.createSession(), /ANONYMOUS user token policy|BadIdentityToken/, 'so an anonymous session cannot be had')
  await t.rejects(secure.createSession({ type: UserTokenType.UserName, userName: 'line1', password: 'wrong' }), /BadUserAccessDenied|BadIdentityToken/, 'and a wrong password')
  const session = await secure.createSession({ type: UserTokenType.UserName, userName: 'line1', password: 'pw-line1' })
  t.equal((await read(session, 'ns=2;s=Cell.Mode')).statusCode.name, 'BadWaitingForInitialData', 'the right user reads, over SignAndEncrypt')
  await session.close()
})

t.test('bad input is refused with the place and the reason', async (t) => {
  const base = { port: 0, pkiDir: join(work, 'server-pki') }
  const p = profile()
  p.signals[2] = { ...p.signals[2]!, nodeId: 'i=2253' }
  await t.rejects(new ProfileServer({ ...base, profile: p }).start(), /signals\[2\] \(parts\): nodeId 'i=2253' is in namespace 0/, 'a node in the standard namespace')
  const twin = profile()
  twin.signals[3] = { ...twin.signals[3]!, nodeId: 'ns=2;s=Cell.Mode' }
  await t.rejects(new ProfileServer({ ...base, profile: twin }).start(), /signals\[3\] \(good\): nodeId 'ns=2;s=Cell.Mode' is already used/, 'two signals on one node')
  const { server } = await served(t)
  await t.rejects(server.start(), /already started/, 'a second start')
  t.throws(() => server.set('nope', 1), /profile test-cell has no signal 'nope'/, 'an unknown signal')
  t.throws(() => server.set('state', 'RUN'), /signal 'state': "RUN" does not fit its Int32 variable/, 'text into an Int32')
  t.throws(() => server.set('good', 2 ** 32), /does not fit its UInt32 variable/, '2^32 into a UInt32')
  t.throws(() => server.set('reason', 1, { status: 'BadNonsense' }), /'BadNonsense' is not an OPC UA status code name/, 'a status OPC UA does not define')
})
