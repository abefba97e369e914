// MES events reach the Unified Namespace on ISA-95 paths; state topics are retained for late subscribers.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import mqtt from 'mqtt'
import pino from 'pino'
import t from 'tap'
import { hashPassword } from '../api/passwords.ts'
import { loadConfig } from '../config.ts'
import { dispatchOrder, releaseOrder } from '../core/orders.ts'
import { seedDemoLine } from '../demo.ts'
import { buildGateway } from '../gateway.ts'
import { LineBroker } from './broker.ts'
import { equipmentPath, topicLevel, UnsPublisher } from './uns.ts'

t.test('order events and retained order state on the line path', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'takt-uns-'))
  const gateway = buildGateway(loadConfig({ env: { TAKT_DATA_DIR: dir, TAKT_LOG_LEVEL: 'silent' } }))
  const broker = await LineBroker.start({
    logger: pino({ level: 'silent' }),
    accounts: [{ username: 'hmi', passwordHash: await hashPassword('hmi-secret'), publish: [], subscribe: ['ACME/#'] }],
  })
  const port = await broker.listenTcp(0, '127.0.0.1')
  t.teardown(async () => {
    await broker.close()
    gateway.close()
    rmSync(dir, { recursive: true, force: true })
  })
  await seedDemoLine(gateway, new Date())
  t.equal(equipmentPath(gateway.store.view, 'WC-PRESS'), 'ACME/ACME.ASSY/L1/WC-PRESS')
  t.equal(equipmentPath(gateway.store.view, 'nowhere'), undefined)
  t.equal(topicLevel('a/b+c#'), 'a_b_c_')

  const errors: unknown[] = []
  const uns = new UnsPublisher(broker, gateway.store.view, gateway.queries, () => new Date(), (e) => errors.push(e))
  gateway.store.onRecorded((events) => uns.publishRecorded(events))
  const hmi = mqtt.connect(`mqtt://127.0.0.1:${port}`, { protocolVersion: 4, username: 'hmi', password: 'hmi-secret', reconnectPeriod: 0 })
  const seen = new Map<string, { payload: string; retain: boolean }>()
  hmi.on('message', (topic, payload, packet) => seen.set(topic, { payload: payload.toString(), retain: packet.retain }))
  await hmi.subscribeAsync('ACME/ACME.ASSY/L1/events/#', { qos: 1 })

  gateway.store.execute('person:lea', (v) => releaseOrder(v, 'PO-1004'))
  gateway.store.execute('person:lea', (v) => dispatchOrder(v, 'PO-1004'))
  await new Promise((resolve) => setTimeout(resolve, 300))
  const released = seen.get('ACME/ACME.ASSY/L1/events/OrderDispatched')
  t.ok(released, 'the event is on the line path')
  t.match(JSON.parse(released!.payload), { type: 'OrderDispatched', actor: 'person:lea', data: { orderId: 'PO-1004' } })
  t.equal(released!.retain, false, 'events are not retained')

  const late = mqtt.connect(`mqtt://127.0.0.1:${port}`, { protocolVersion: 4, username: 'hmi', password: 'hmi-secret', reconnectPeriod: 0 })
  const state = new Promise<{ payload: string; retain: boolean }>((resolve) => late.once('message', (_topic, payload, packet) => resolve({ payload: payload.toString(), retain: packet.retain })))
  await late.subscribeAsync('ACME/ACME.ASSY/L1/orders/PO-1004/state', { qos: 1 })
  const retained = await state
  t.equal(retained.retain, true, 'a late subscriber gets the retained order state')
  t.match(JSON.parse(retained.payload), { orderId: 'PO-1004', state: 'dispatched', workCenterId: 'WC-PRESS', quantity: 40 })
  t.same(errors, [])
  await Promise.all([hmi.endAsync(), late.endAsync()])
})
