// Broker restart with a persistent store: retained messages, sessions and queued QoS 1 messages come back.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import mqtt from 'mqtt'
import pino from 'pino'
import t from 'tap'
import { hashPassword } from '../api/passwords.ts'
import { LineBroker } from './broker.ts'
import { sqlitePersistence } from './broker-persistence.ts'

t.test('retained and queued QoS 1 messages survive a broker restart', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'takt-broker-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const accounts = [{ username: 'u', passwordHash: await hashPassword('u-secret'), publish: ['acme/#'], subscribe: ['acme/#'] }]
  const start = async () => {
    const broker = await LineBroker.start({ logger: pino({ level: 'silent' }), accounts, persistence: sqlitePersistence(join(dir, 'broker.db')) })
    return { broker, port: await broker.listenTcp(0, '127.0.0.1') }
  }
  const open = async (port: number, clientId: string, clean: boolean) => {
    const c = mqtt.connect(`mqtt://127.0.0.1:${port}`, { protocolVersion: 4, clientId, clean, username: 'u', password: 'u-secret', reconnectPeriod: 0 })
    await new Promise<void>((resolve, reject) => {
      c.once('connect', () => resolve())
      c.once('error', reject)
    })
    return c
  }

  let { broker, port } = await start()
  const sleeper = await open(port, 'historian-1', false)
  await sleeper.subscribeAsync('acme/#', { qos: 1 })
  await sleeper.endAsync()
  const pub = await open(port, 'press-1', true)
  await pub.publishAsync('acme/l1/state', 'running', { qos: 1, retain: true })
  for (const n of ['1', '2', '3']) await pub.publishAsync('acme/l1/count', n, { qos: 1 })
  await pub.endAsync()
  await broker.close()

  ;({ broker, port } = await start())
  t.teardown(() => broker.close())
  const back = await open(port, 'historian-1', false)
  const got: string[] = []
  await new Promise<void>((resolve) => {
    back.on('message', (topic, payload) => {
      got.push(`${topic}=${payload.toString()}`)
      if (got.length === 4) resolve()
    })
  })
  t.same(got.sort(), ['acme/l1/count=1', 'acme/l1/count=2', 'acme/l1/count=3', 'acme/l1/state=running'], 'the persistent session gets every queued message after the restart')
  await back.endAsync()

  const fresh = await open(port, 'hmi-1', true)
  const retained = new Promise<string>((resolve) => fresh.once('message', (topic, payload, packet) => resolve(`${topic}=${payload.toString()} retain=${packet.retain}`)))
  await fresh.subscribeAsync('acme/+/state', { qos: 1 })
  t.equal(await retained, 'acme/l1/state=running retain=true', 'a new subscriber gets the retained state')
  await fresh.endAsync()

  const again = await open(port, 'historian-1', false)
  const extra: string[] = []
  again.on('message', (topic) => extra.push(topic))
  await new Promise((resolve) => setTimeout(resolve, 300))
  t.same(extra, [], 'acknowledged messages are not delivered twice')
  await again.endAsync()
})

t.test('an offline session is queued exactly what its subscriptions take, as they change between publications to the same topic', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'takt-broker-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const accounts = [{ username: 'u', passwordHash: await hashPassword('u-secret'), publish: ['acme/#'], subscribe: ['acme/#'] }]
  const broker = await LineBroker.start({ logger: pino({ level: 'silent' }), accounts, persistence: sqlitePersistence(join(dir, 'broker.db')) })
  t.teardown(() => broker.close())
  const port = await broker.listenTcp(0, '127.0.0.1')
  const open = async (clientId: string, clean: boolean) => {
    const c = mqtt.connect(`mqtt://127.0.0.1:${port}`, { protocolVersion: 4, clientId, clean, username: 'u', password: 'u-secret', reconnectPeriod: 0 })
    await new Promise<void>((resolve, reject) => {
      c.once('connect', () => resolve())
      c.once('error', reject)
    })
    return c
  }
  /** Reconnects the persistent session, collects what was queued for it, and leaves it offline again. */
  const queuedFor = async (clientId: string) => {
    const c = await open(clientId, false)
    const got: string[] = []
    c.on('message', (_topic, payload) => got.push(payload.toString()))
    await new Promise((resolve) => setTimeout(resolve, 300))
    await c.endAsync()
    return got
  }
  const pub = await open('press-1', true)
  t.teardown(() => pub.end(true))

  // No session subscribes yet: the topic's (empty) subscriber list is looked up and remembered.
  await pub.publishAsync('acme/l1/count', 'before', { qos: 1 })
  const sleeper = await open('historian-1', false)
  await sleeper.subscribeAsync('acme/l1/count', { qos: 1 })
  await sleeper.endAsync()
  await pub.publishAsync('acme/l1/count', 'subscribed', { qos: 1 })
  t.same(await queuedFor('historian-1'), ['subscribed'], 'a subscription added after the topic was seen is queued for; what came before it is not')

  const leaving = await open('historian-1', false)
  await leaving.unsubscribeAsync('acme/l1/count')
  await leaving.endAsync()
  await pub.publishAsync('acme/l1/count', 'after', { qos: 1 })
  t.same(await queuedFor('historian-1'), [], 'after the unsubscribe nothing more is queued for the session')
})
