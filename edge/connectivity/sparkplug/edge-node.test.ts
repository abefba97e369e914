// The gateway as a Sparkplug B edge node against a real Mosquitto, watched by a host that decodes with Eclipse Tahu.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import pino from 'pino'
import t from 'tap'
import { freePort } from '../../../test/helpers/client.ts'
import { SparkplugEdgeNode, type SparkplugEdgeNodeOptions } from './edge-node.ts'
import { EdgeNodeState } from './node-state.ts'
import { Mosquitto, observe, TcpProxy, until, type Observed } from './test/mosquitto.ts'
import { tahu, tahuBig } from './test/tahu.ts'

const silent = pino({ level: 'silent' })

async function setup(t: { teardown(fn: () => unknown): void }, options: { persistent?: boolean } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'takt-sparkplug-'))
  const mosquitto = await Mosquitto.start(dir, await freePort(), options)
  t.teardown(async () => {
    await mosquitto.stop()
    rmSync(dir, { recursive: true, force: true })
  })
  const host = await observe(mosquitto.port, 'Line1', { persistent: options.persistent ?? false })
  t.teardown(() => host.close())
  const node = (overrides: Partial<SparkplugEdgeNodeOptions> = {}) => {
    const n = new SparkplugEdgeNode({ url: `mqtt://127.0.0.1:${mosquitto.port}`, groupId: 'Line1', edgeNodeId: 'takt-gw', stateFile: join(dir, 'sparkplug.db'), logger: silent, reconnectMs: 200, ...overrides })
    t.teardown(() => n.close())
    return n
  }
  return { dir, mosquitto, host, node }
}

const values = (m: Observed) => new Map((m.payload.metrics ?? []).map((x) => [x.name ?? `alias:${tahuBig(x.alias)}`, x]))
const tick = () => new Promise((resolve) => setImmediate(resolve))

t.test('NBIRTH first (seq 0, bdSeq, Rebirth=false, every metric with an alias), then NDATA with only what changed, seq wrapping at 255', async (t) => {
  const { host, node } = await setup(t)
  const gw = node()
  await gw.start()
  t.ok(await until(() => host.of('NBIRTH').length === 1), 'an NBIRTH after the connect')
  const first = host.of('NBIRTH')[0]!
  t.match(first, { qos: 0, retain: false, seq: 0, bdSeq: 0 }, 'QoS 0, not retained, seq 0, the first bdSeq is 0')
  t.match(values(first).get('Node Control/Rebirth'), { type: 'Boolean', value: false })

  gw.update([
    { name: 'WC-PRESS/OEE', value: 0.82 },
    { name: 'WC-PRESS/Good', value: 10, datatype: 'Int32' },
    { name: 'WC-PRESS/State', value: 'running' },
    { name: 'WC-PRESS/Total', value: -(2n ** 40n) },
  ])
  t.ok(await until(() => host.of('NBIRTH').length === 2), 'new metrics are announced in a new NBIRTH')
  const birth = host.of('NBIRTH')[1]!
  t.equal(birth.seq, 0)
  t.equal(birth.bdSeq, 0, 'a rebirth in the same connection keeps its bdSeq')
  const born = values(birth)
  t.match(born.get('WC-PRESS/OEE'), { type: 'Double', value: 0.82 })
  t.match(born.get('WC-PRESS/Good'), { type: 'Int32', value: 10 })
  t.equal(BigInt.asIntN(64, tahuBig(born.get('WC-PRESS/Total')!.value)), -(2n ** 40n), 'an Int64 exactly')
  const aliases = [...born.values()].map((m) => String(tahuBig(m.alias)))
  t.equal(new Set(aliases).size, aliases.length, 'every birth metric has its own alias (tck-id-payloads-alias-uniqueness)')

  gw.update([{ name: 'WC-PRESS/Good', value: 11 }, { name: 'WC-PRESS/OEE', value: 0.82 }, { name: 'WC-PRESS/State', value: 'running' }])
  t.ok(await until(() => host.of('NDATA').length === 1))
  const data = host.of('NDATA')[0]!
  t.equal(data.seq, 1, 'the first NDATA after a birth is seq 1')
  t.equal(data.payload.metrics?.length, 1, 'only the changed metric is sent')
  const sent = data.payload.metrics![0]!
  t.equal(sent.name, undefined, 'NDATA carries the alias, not the name')
  t.equal(String(tahuBig(sent.alias)), String(tahuBig(born.get('WC-PRESS/Good')!.alias)))
  t.equal(sent.value, 11)

  gw.update([{ name: 'WC-PRESS/Good', value: 'eleven' }, { name: 'bdSeq', value: 5 }, { name: 'x', value: null }])
  await tick()
  await new Promise((resolve) => setTimeout(resolve, 100))
  t.equal(host.of('NDATA').length, 1, 'a value of the wrong type, a reserved name and an untyped null are refused, nothing is sent')

  for (let i = 0; i < 300; i++) {
    gw.update([{ name: 'WC-PRESS/Good', value: 12 + i }])
    await tick()
  }
  t.ok(await until(() => host.of('NDATA').length === 301), '300 more NDATA')
  const seqs = host.of('NDATA').map((m) => m.seq)
  t.same(seqs.slice(253, 258), [254, 255, 0, 1, 2], 'seq wraps from 255 to 0')
  t.ok(seqs.every((s, i) => s === (i + 1) % 256), 'every NDATA is the previous seq + 1')
  t.match(gw.status(), { connected: true, bdSeq: 0, seq: 301 % 256, backlog: 0 })
})

t.test('the NDEATH will (QoS 1, not retained, bdSeq, no seq) when the connection is cut; the next CONNECT has bdSeq + 1', async (t) => {
  const { mosquitto, host, node } = await setup(t)
  const proxy = new TcpProxy(mosquitto.port)
  t.teardown(() => proxy.close())
  const gw = node({ url: `mqtt://127.0.0.1:${await proxy.listen()}` })
  await gw.start()
  t.ok(await until(() => host.of('NBIRTH').length === 1))
  proxy.cut()
  t.ok(await until(() => host.of('NDEATH').length === 1), 'the broker publishes the will')
  const death = host.of('NDEATH')[0]!
  t.match(death, { qos: 1, seq: undefined, bdSeq: 0 }, 'QoS 1, no seq, the bdSeq of the birth')
  t.equal(death.payload.metrics?.length, 1, 'only the bdSeq metric (tck-id-topics-ndeath-payload)')
  t.ok(await until(() => host.of('NBIRTH').length === 2), 'the node reconnects and births again')
  t.match(host.of('NBIRTH')[1], { seq: 0, bdSeq: 1 })
  const late = await observe(mosquitto.port, 'Line1')
  await new Promise((resolve) => setTimeout(resolve, 200))
  t.equal(late.of('NDEATH').length, 0, 'the NDEATH was not retained')
  await late.close()
})

t.test('NCMD Node Control/Rebirth = true brings a fresh NBIRTH with the same bdSeq; false, other metrics and garbage change nothing', async (t) => {
  const { host, node } = await setup(t)
  const gw = node()
  await gw.start()
  gw.update([{ name: 'count', value: 1, datatype: 'Int16' }])
  t.ok(await until(() => host.of('NBIRTH').length === 2))
  gw.update([{ name: 'count', value: 2 }])
  t.ok(await until(() => host.of('NDATA').length === 1))
  const ncmd = (metrics: Array<{ name: string; type: string; value: unknown }>) => host.client.publishAsync('spBv1.0/Line1/NCMD/takt-gw', Buffer.from(tahu.encodePayload({ timestamp: Date.now(), metrics })))
  await ncmd([{ name: 'Node Control/Rebirth', type: 'Boolean', value: false }])
  await ncmd([{ name: 'Node Control/Reboot', type: 'Boolean', value: true }])
  await host.client.publishAsync('spBv1.0/Line1/NCMD/takt-gw', Buffer.from([0xff, 0xff]))
  await new Promise((resolve) => setTimeout(resolve, 150))
  t.equal(host.of('NBIRTH').length, 2, 'no rebirth for false, an unknown command or a payload that does not decode')
  await ncmd([{ name: 'Node Control/Rebirth', type: 'Boolean', value: true }])
  t.ok(await until(() => host.of('NBIRTH').length === 3), 'a rebirth on request')
  const rebirth = host.of('NBIRTH')[2]!
  t.match(rebirth, { seq: 0, bdSeq: 0 }, 'seq 0, the same bdSeq (no new CONNECT)')
  t.equal(values(rebirth).get('count')!.value, 2, 'with the current value')
  gw.update([{ name: 'count', value: 3 }])
  t.ok(await until(() => host.of('NDATA').length === 2))
  t.equal(host.of('NDATA')[1]!.seq, 1, 'seq starts over after the rebirth')
})

t.test('store-and-forward: values while the broker is down arrive after its restart, historical, in order, with their timestamps', async (t) => {
  const { mosquitto, host, node } = await setup(t, { persistent: true })
  const gw = node({ backlogBatch: 20 })
  await gw.start()
  gw.update([{ name: 'count', value: 0, datatype: 'Int64' }])
  t.ok(await until(() => host.of('NBIRTH').length === 2))
  await mosquitto.stop()
  t.ok(await until(() => !gw.status().connected), 'the node notices the broker is gone')
  const t0 = Date.now() - 60_000
  for (let i = 1; i <= 50; i++) gw.update([{ name: 'count', value: i, timestamp: t0 + i * 1000 }])
  await tick()
  t.equal(gw.status().backlog, 50, 'fifty values wait on disk')
  await new Promise((resolve) => setTimeout(resolve, 700)) // a few reconnect attempts find no broker
  await mosquitto.restart()
  t.ok(await until(() => gw.status().connected && gw.status().backlog === 0, 8000), 'the node is back and its backlog is sent')
  t.ok(await until(() => host.of('NDATA').reduce((n, m) => n + (m.payload.metrics?.length ?? 0), 0) >= 50), 'the host has every value')
  const birth = host.of('NBIRTH').at(-1)!
  t.equal(birth.bdSeq, 1, 'the birth after the outage has the next bdSeq: attempts that found no broker did not use one up')
  t.equal(Number(tahuBig(values(birth).get('count')!.value)), 50, 'the birth has the current value')
  t.equal(host.of('NDATA').length, 3, 'in batches of 20, 20 and 10')
  const historical = host.of('NDATA').flatMap((m) => m.payload.metrics ?? [])
  t.ok(historical.every((m) => m.isHistorical === true), 'every stored value is marked is_historical')
  t.same(historical.map((m) => Number(tahuBig(m.value))), Array.from({ length: 50 }, (_, i) => i + 1), 'all fifty, in order')
  t.same(historical.map((m) => Number(tahuBig(m.timestamp))), Array.from({ length: 50 }, (_, i) => t0 + (i + 1) * 1000), 'with their own timestamps')
  const sequence = host.messages.filter((m) => m.type !== 'NDEATH').slice(-1 - host.of('NDATA').length).map((m) => m.seq)
  t.same(sequence, Array.from({ length: sequence.length }, (_, i) => i), 'NBIRTH 0 then historical NDATA 1, 2, …')
})

t.test('the backlog is bounded: the oldest values go first, with a warning', async (t) => {
  const { mosquitto, host, dir } = await setup(t, { persistent: true })
  const lines: string[] = []
  const logger = pino({ level: 'warn' }, new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) }))
  const gw = new SparkplugEdgeNode({ url: `mqtt://127.0.0.1:${mosquitto.port}`, groupId: 'Line1', edgeNodeId: 'takt-gw', stateFile: join(dir, 'bounded.db'), logger, reconnectMs: 200, maxBacklog: 10, password: 'secret-pw', username: 'gw' })
  t.teardown(() => gw.close())
  await mosquitto.stop()
  await gw.start()
  for (let i = 1; i <= 25; i++) gw.update([{ name: 'count', value: i, datatype: 'Int32' }])
  await tick()
  t.equal(gw.status().backlog, 10, 'no more than maxBacklog values are kept')
  t.ok(lines.some((l) => /backlog full; the oldest values were dropped/.test(l) && /"dropped":15/.test(l)), 'the drop is logged with how many')
  t.notOk(lines.some((l) => l.includes('secret-pw')), 'the password never reaches the log')
  await mosquitto.restart()
  t.ok(await until(() => host.of('NDATA').length > 0 && gw.status().backlog === 0, 8000))
  t.same(host.of('NDATA').flatMap((m) => m.payload.metrics ?? []).map((m) => m.value), [16, 17, 18, 19, 20, 21, 22, 23, 24, 25], 'the newest ten arrive')
})

t.test('close() publishes NDEATH before DISCONNECT; a new node on the same state file continues bdSeq and keeps the aliases', async (t) => {
  const { host, node, dir } = await setup(t)
  const first = node()
  await first.start()
  first.update([{ name: 'a', value: 1, datatype: 'Int32' }, { name: 'b', value: true }])
  t.ok(await until(() => host.of('NBIRTH').length === 2))
  const aliasesBefore = [...values(host.of('NBIRTH')[1]!).values()].map((m) => `${m.name}=${tahuBig(m.alias)}`)
  await first.close()
  t.ok(await until(() => host.of('NDEATH').length === 1), 'an NDEATH on close')
  t.equal(host.of('NDEATH')[0]!.bdSeq, 0)
  await new Promise((resolve) => setTimeout(resolve, 150))
  t.equal(host.of('NDEATH').length, 1, 'and no will after it: the DISCONNECT was clean')

  const second = node()
  await second.start()
  t.ok(await until(() => host.of('NBIRTH').length === 3))
  const rebirth = host.of('NBIRTH')[2]!
  t.equal(rebirth.bdSeq, 1, 'bdSeq continues from the state file')
  t.same([...values(rebirth).values()].map((m) => `${m.name}=${tahuBig(m.alias)}`), aliasesBefore, 'the same metrics, values and aliases after the restart')
  t.equal(values(rebirth).get('a')!.value, 1)

  const state = new EdgeNodeState(join(dir, 'wrap.db'))
  const seen = Array.from({ length: 258 }, () => state.nextBdSeq())
  state.close()
  t.same(seen.slice(254), [254, 255, 0, 1], 'bdSeq wraps from 255 to 0')
})
