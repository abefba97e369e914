// Sparkplug through the whole gateway: a device births into the embedded broker, its state becomes an MES event, and the gateway's edge node tells the plant broker.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { hashPassword } from '../edge/api/passwords.ts'
import { loadConfig } from '../edge/config.ts'
import { startGateway } from '../edge/main.ts'
import { DEVICE, EDGE, fillerBirth, GROUP, TahuDevice } from '../edge/connectivity/sparkplug/test/device.ts'
import { Mosquitto, observe, until } from '../edge/connectivity/sparkplug/test/mosquitto.ts'
import { tahuBig } from '../edge/connectivity/sparkplug/test/tahu.ts'
import { freePort } from './helpers/client.ts'
import { adminToken } from './helpers/gateway.ts'
import { defineLine } from './helpers/line.ts'

t.test('device births → MES state change → NDATA on the plant broker; connectivity status reports both', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'takt-spb-line-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const plant = await Mosquitto.start(dir, await freePort())
  t.teardown(() => plant.stop())
  const host = await observe(plant.port, 'Plant1')
  t.teardown(() => host.close())
  const profile = join(import.meta.dirname, '..', 'hardware-profiles', 'sparkplug-b-device.yaml')
  const file = join(dir, 'takt.yaml')
  writeFileSync(
    file,
    [
      'mqtt:',
      '  host: 127.0.0.1',
      '  accounts:',
      `    - { username: ${EDGE}, passwordHash: '${await hashPassword('filler-secret')}', publish: ['spBv1.0/${GROUP}/+/${EDGE}/#'], subscribe: ['spBv1.0/${GROUP}/NCMD/${EDGE}', 'spBv1.0/${GROUP}/DCMD/${EDGE}/#'] }`,
      'devices:',
      `  - { name: ${DEVICE}, workCenterId: WC-MIX, profile: ${profile}, sparkplug: { groupId: ${GROUP}, edgeNodeId: ${EDGE}, deviceId: ${DEVICE} } }`,
      'sparkplug:',
      `  url: mqtt://127.0.0.1:${plant.port}`,
      '  groupId: Plant1',
      '  edgeNodeId: Line1-gateway',
      '',
    ].join('\n'),
  )
  const config = loadConfig({ file, env: { TAKT_DATA_DIR: dir, TAKT_HTTP_PORT: '0', TAKT_MQTT_PORT: '0', TAKT_LOG_LEVEL: 'silent', TAKT_ADMIN_TOKEN: adminToken } })
  const running = await startGateway(config)
  t.teardown(() => running.stop())
  const url = `http://127.0.0.1:${running.port}`
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(url + path, { method, headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) })
    const text = await res.text()
    return { status: res.status, body: text ? JSON.parse(text) : {}, headers: res.headers }
  }
  await defineLine(call)

  t.ok(await until(() => host.of('NBIRTH').length > 0), 'the gateway births on the plant broker')
  const birth = host.of('NBIRTH')[0]!
  t.equal(birth.topic, 'spBv1.0/Plant1/NBIRTH/Line1-gateway')
  t.equal(birth.seq, 0)
  t.equal(birth.bdSeq, 0, 'bdSeq 0 on the first connection')

  const device = await TahuDevice.connect(running.connectivity.ports.mqtt)
  t.teardown(() => device.client.endAsync(true))
  await device.nbirth()
  await device.publish('DBIRTH', fillerBirth(Date.now()))
  // A metric the gateway has not born yet comes with a fresh NBIRTH; a known one in an NDATA.
  const seen = (name: string, value: (v: unknown) => boolean) => host.messages.some((m) => (m.type === 'NDATA' || m.type === 'NBIRTH') && m.payload.metrics?.some((x) => x.name === name && value(x.value)))
  const stateOnPlant = () => seen('WC-MIX/State', (v) => v === 'running')
  t.ok(await until(() => running.gateway.store.view.workCenterState('WC-MIX') === 'running'), 'the device state RUNNING is the work center running in the MES')
  t.ok(await until(stateOnPlant), 'and the plant host sees it in an NDATA of the gateway')
  await device.publish('DDATA', [{ name: 'Counts/Good', alias: 2, timestamp: Date.now(), type: 'Int64', value: 110 }])
  const goodOnPlant = () => seen('WC-MIX/GoodCount', (v) => Number(tahuBig(v)) === 10)
  t.ok(await until(goodOnPlant), 'ten more good parts counted: the plant host sees the work center total')
  if (!goodOnPlant()) t.comment(JSON.stringify(host.messages.map((m) => [m.type, m.seq, m.payload.metrics?.map((x) => [x.name, String(x.value)])]), null, 0))

  const status = await call('GET', '/api/v1/connectivity')
  t.equal(status.status, 200)
  t.match(status.body, { devices: [{ device: DEVICE, protocol: 'sparkplug', connected: true }], sparkplug: { connected: true, bdSeq: 0 } })
})
