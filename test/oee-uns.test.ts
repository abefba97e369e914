// The live OEE of each work center on its UNS topic, over the gateway's own broker: published when it changes, a burst coalesced.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import mqtt from 'mqtt'
import t from 'tap'
import { hashPassword } from '../edge/api/passwords.ts'
import { loadConfig } from '../edge/config.ts'
import { recordMachineCount, recordMachineState } from '../edge/core/machine.ts'
import { startGateway } from '../edge/main.ts'
import { jsonClient } from './helpers/client.ts'
import { adminToken } from './helpers/gateway.ts'
import { defineLine } from './helpers/line.ts'

const allDay = { id: 'utc-24h', timeZone: 'UTC', shifts: [{ name: 'day', days: [1, 2, 3, 4, 5, 6, 7], start: '00:00', end: '00:00', breaks: [] }], holidays: [], plannedDowntime: [] }

t.test('SITE/AREA/L1/WC-MIX/oee carries the live OEE of the current shift', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'takt-oee-uns-'))
  writeFileSync(join(dir, 'takt.yaml'), ['mqtt:', '  accounts:', `    - { username: board, passwordHash: "${await hashPassword('board-secret')}", subscribe: ["SITE/#"] }`].join('\n'))
  const config = loadConfig({ file: join(dir, 'takt.yaml'), env: { TAKT_DATA_DIR: dir, TAKT_HTTP_PORT: '0', TAKT_MQTT_PORT: '0', TAKT_LOG_LEVEL: 'silent', TAKT_ADMIN_TOKEN: adminToken } })
  const running = await startGateway(config)
  t.teardown(async () => {
    await running.stop()
    rmSync(dir, { recursive: true, force: true })
  })
  const call = jsonClient(`http://127.0.0.1:${running.port}`, adminToken)
  await defineLine(call)
  t.equal((await call('PUT', `/api/v1/shift-calendars/${allDay.id}`, allDay)).status, 200)
  t.equal((await call('PUT', '/api/v1/equipment/L1/shift-calendar', { calendarId: allDay.id })).status, 200)

  const board = await mqtt.connectAsync(`mqtt://127.0.0.1:${running.connectivity.ports.mqtt}`, { username: 'board', password: 'board-secret', protocolVersion: 4, reconnectPeriod: 0 })
  t.teardown(() => board.endAsync())
  const messages: { topic: string; body: any }[] = []
  board.on('message', (topic, payload) => messages.push({ topic, body: JSON.parse(payload.toString()) }))
  await board.subscribeAsync('SITE/AREA/L1/+/oee', { qos: 1 })
  const until = async (check: () => boolean) => {
    for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 25))
    return check()
  }

  const store = running.gateway.store
  const tenMinutesAgo = new Date(Date.now() - 600_000).toISOString()
  store.execute('device:mixer', (v) => recordMachineState(v, 'WC-MIX', 'running', 'test'), tenMinutesAgo)
  t.ok(await until(() => messages.some((m) => m.body.oee?.runMs >= 600_000)), 'the state change is published as live OEE')
  const first = messages.at(-1)!
  t.equal(first.topic, 'SITE/AREA/L1/WC-MIX/oee')
  t.match(first.body, { workCenterId: 'WC-MIX', calendarId: allDay.id, shift: { name: 'day', date: new Date().toISOString().slice(0, 10) } })
  const o = first.body.oee
  t.equal(o.availability, o.runMs / o.plannedMs, 'running for ten minutes of the shift so far')
  t.equal(o.losses.availability.byLoss.no_data, o.plannedMs - o.runMs, 'the shift before the first state is "no data", a loss')

  // A burst of twenty counts in one go: the throttle sends the last figures, once.
  const seen = messages.length
  for (let i = 0; i < 20; i++) store.execute('device:mixer', (v) => recordMachineCount(v, 'WC-MIX', 1, 0, 'test'))
  t.ok(await until(() => messages.some((m) => m.body.oee?.counts.total === 20)), 'the live OEE counts all twenty')
  await new Promise((r) => setTimeout(r, 1500))
  t.equal(messages.length - seen, 1, 'one publication for the burst')
  t.equal(messages.at(-1)!.body.oee.counts.good, 20)
  t.ok(messages.at(-1)!.body.oee.performance > 0, 'with a performance, from the rated speed')
})
