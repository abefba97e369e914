// The embedded broker on a real port: authentication, ACLs, limits — checked with mosquitto's own clients and mqtt.js.
import { execFile } from 'node:child_process'
import { connect as tcpConnect } from 'node:net'
import { promisify } from 'node:util'
import mqtt from 'mqtt'
import pino from 'pino'
import t from 'tap'
import { hashPassword } from '../api/passwords.ts'
import { LineBroker } from './broker.ts'

const run = promisify(execFile)

async function startBroker(t: { teardown(fn: () => Promise<void> | void): void }, limits: { maxClients?: number; maxPacketBytes?: number; maxMessagesPerSecond?: number } = {}) {
  const broker = await LineBroker.start({
    logger: pino({ level: 'silent' }),
    accounts: [
      { username: 'press1', passwordHash: await hashPassword('press1-secret'), publish: ['devices/${username}/#'], subscribe: ['devices/${username}/cmd/#'] },
      { username: 'hmi', passwordHash: await hashPassword('hmi-secret'), publish: [], subscribe: ['acme/#', 'devices/#'] },
    ],
    ...limits,
  })
  const port = await broker.listenTcp(0, '127.0.0.1')
  t.teardown(() => broker.close())
  return { broker, port }
}

function client(port: number, username?: string, password?: string) {
  return mqtt.connect(`mqtt://127.0.0.1:${port}`, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 3000, ...(username ? { username, password } : {}) })
}

const connected = (c: mqtt.MqttClient) =>
  new Promise<void>((resolve, reject) => {
    c.once('connect', () => resolve())
    c.once('error', reject)
  })

t.test('anonymous clients and wrong passwords are refused; a known device connects', async (t) => {
  const { port } = await startBroker(t)
  const anonymous = await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(port), '-t', 'devices/x', '-m', '1']).then(
    () => 'accepted',
    (error: { stderr: string }) => error.stderr,
  )
  t.match(anonymous, /not authori[sz]ed|bad user name or password|refused/i, 'mosquitto_pub without credentials is refused')
  const wrong = await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(port), '-u', 'press1', '-P', 'nope', '-t', 'devices/press1/x', '-m', '1']).then(
    () => 'accepted',
    (error: { stderr: string }) => error.stderr,
  )
  t.match(wrong, /not authori[sz]ed|bad user name or password|refused/i, 'a wrong password is refused')
  const ok = await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(port), '-u', 'press1', '-P', 'press1-secret', '-t', 'devices/press1/count', '-m', '7', '-q', '1'])
  t.equal(ok.stderr, '', 'the device publishes to its own topic')
})

t.test('ACLs: a device publishes only to its own topics; an HMI client only reads', async (t) => {
  const { port } = await startBroker(t)
  const hmi = client(port, 'hmi', 'hmi-secret')
  await connected(hmi)
  const granted = await hmi.subscribeAsync('devices/press1/#', { qos: 1 })
  t.same(granted.map((g) => g.qos), [1], 'a subscription inside the ACL is granted')
  const refused = await hmi.subscribeAsync('secret/#', { qos: 1 }).then(
    () => 'granted',
    (error: Error) => error.message,
  )
  t.match(refused, /Subscribe error/, 'a subscription outside the ACL is answered 0x80 (failure)')
  const received: string[] = []
  hmi.on('message', (topic, payload) => received.push(`${topic}=${payload.toString()}`))
  const press = client(port, 'press1', 'press1-secret')
  await connected(press)
  await press.publishAsync('devices/press1/count', '42', { qos: 1 })
  const closed = new Promise<void>((resolve) => press.once('close', () => resolve()))
  press.publish('devices/press2/count', '1', { qos: 1 })
  await closed
  t.pass('publishing to another device topic disconnects the client')
  const hmiPublish = new Promise<void>((resolve) => hmi.once('close', () => resolve()))
  hmi.publish('devices/press1/count', '99', { qos: 1 })
  await hmiPublish
  t.same(received, ['devices/press1/count=42'], 'only the allowed publication was relayed')
  hmi.end(true)
})

t.test('limits: an oversized packet, a flood and one client too many are cut off; the broker stays up', async (t) => {
  const { port } = await startBroker(t, { maxPacketBytes: 1024, maxMessagesPerSecond: 50, maxClients: 2 })
  const big = client(port, 'press1', 'press1-secret')
  await connected(big)
  const bigClosed = new Promise<void>((resolve) => big.once('close', () => resolve()))
  big.publish('devices/press1/blob', Buffer.alloc(4096), { qos: 0 })
  await bigClosed
  t.pass('a 4 KiB packet over a 1 KiB limit closes the connection')

  const flood = client(port, 'press1', 'press1-secret')
  await connected(flood)
  const floodClosed = new Promise<void>((resolve) => flood.once('close', () => resolve()))
  for (let i = 0; i < 200; i++) flood.publish('devices/press1/x', String(i), { qos: 0 })
  await floodClosed
  t.pass('200 messages in a burst over a limit of 50 per second close the connection')

  const a = client(port, 'hmi', 'hmi-secret')
  const b = client(port, 'hmi', 'hmi-secret')
  await Promise.all([connected(a), connected(b)])
  const third = await run('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(port), '-u', 'hmi', '-P', 'hmi-secret', '-t', 'acme/#', '-C', '1', '-W', '2']).then(
    () => 'accepted',
    (error: { stderr: string }) => error.stderr,
  )
  t.match(third, /unavailable|refused/i, 'a third client over a limit of 2 is refused')
  const raw = tcpConnect(port, '127.0.0.1')
  await new Promise((resolve) => raw.once('connect', resolve))
  raw.end(Buffer.from([0x10, 0xff, 0xff, 0xff, 0x7f]))
  await new Promise((resolve) => raw.once('close', resolve))
  t.ok(a.connected && b.connected, 'the clients within the limits stay connected')
  a.end(true)
  b.end(true)
})

t.test('closing the broker ends the connections of clients still connected, and of one that keeps reconnecting', async (t) => {
  const broker = await LineBroker.start({ logger: pino({ level: 'silent' }), accounts: [{ username: 'press1', passwordHash: await hashPassword('press1-secret'), publish: ['devices/${username}/#'], subscribe: [] }] })
  const port = await broker.listenTcp(0, '127.0.0.1')
  // A device on the line does not leave because the gateway stops: it stays, and reconnects.
  const device = mqtt.connect(`mqtt://127.0.0.1:${port}`, { protocolVersion: 4, reconnectPeriod: 200, username: 'press1', password: 'press1-secret' })
  t.teardown(() => device.end(true))
  await connected(device)
  const closed = await Promise.race([broker.close().then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 30_000).unref())])
  t.ok(closed, 'close() finishes with the client still connected')
  const refused = client(port, 'press1', 'press1-secret')
  t.teardown(() => refused.end(true))
  await t.rejects(connected(refused), 'nothing listens afterwards')
})
