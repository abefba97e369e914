// No secret reaches the gateway's log: admin, sync and ERP tokens, broker and bridge passwords, people's passwords and PINs, session tokens — even at debug level, even when they are wrong.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import mqtt from 'mqtt'
import t from 'tap'
import { hashPassword } from '../../edge/api/passwords.ts'
import { freePort, jsonClient, startChildGateway } from '../helpers/client.ts'
import { removeDir } from '../helpers/gateway.ts'

const secrets = {
  admin: 'secret-admin-token-4f1c9e0b7a3d5e28',
  sync: 'secret-sync-token-8d2e6a1f0c4b9e73',
  erp: 'secret-erp-authorization-1b7d3f9a',
  device: 'secret-device-password-5a8c2e',
  wrongDevice: 'secret-wrong-device-password-0f3b',
  bridge: 'secret-bridge-password-6e9d1c',
  person: 'secret person password 7c2a',
  wrongPerson: 'secret wrong person password 3e8f',
  pin: '860427',
  wrongPin: '951638',
}

t.test('the log of a gateway that was given and shown every kind of secret contains none of them', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'takt-secrets-'))
  const closed = await freePort()
  const config = join(dir, 'takt.yaml')
  writeFileSync(
    config,
    [
      'mqtt:',
      '  accounts:',
      `    - { username: press1, passwordHash: '${await hashPassword(secrets.device)}', publish: ['devices/\${username}/#'] }`,
      'sync:',
      `  url: http://127.0.0.1:${closed}/ingest`,
      `  token: ${secrets.sync}`,
      '  minBackoffMs: 20',
      '  maxBackoffMs: 50',
      'erp:',
      '  push:',
      `    url: http://127.0.0.1:${closed}/erp`,
      `    authorization: Bearer ${secrets.erp}`,
      'bridge:',
      `  url: mqtt://127.0.0.1:${closed}`,
      '  username: line-bridge',
      `  password: ${secrets.bridge}`,
      '',
    ].join('\n'),
    { mode: 0o600 },
  )
  const mqttPort = await freePort()
  const child = await startChildGateway({ TAKT_CONFIG: config, TAKT_DATA_DIR: join(dir, 'data'), TAKT_LOG_LEVEL: 'debug', TAKT_ADMIN_TOKEN: secrets.admin, TAKT_MQTT_PORT: String(mqttPort) })
  t.teardown(async () => {
    await child.kill('SIGKILL')
    removeDir(dir)
  })
  const call = jsonClient(child.url, secrets.admin)

  t.equal((await call('PUT', '/api/v1/people/pia', { id: 'pia', name: 'Pia', roles: ['operator'] })).status, 200)
  t.equal((await call('PUT', '/api/v1/people/pia/password', { password: secrets.person })).status, 200)
  t.equal((await call('PUT', '/api/v1/people/pia/badge', { badgeId: 'B-PIA', pin: secrets.pin })).status, 200)
  t.equal((await call('POST', '/api/v1/auth/login', { username: 'pia', password: secrets.wrongPerson }, '')).status, 401, 'a wrong password')
  const session = await call('POST', '/api/v1/auth/login', { username: 'pia', password: secrets.person }, '')
  t.equal(session.status, 200, 'the right one')
  const sessionToken = String(session.body.token)
  t.equal((await call('POST', '/api/v1/auth/badge', { badgeId: 'B-PIA', pin: secrets.wrongPin }, '')).status, 401, 'a wrong PIN')
  t.equal((await call('GET', '/api/v1/auth/me', undefined, sessionToken)).status, 200)
  t.equal((await call('GET', '/api/v1/auth/me', undefined, `${sessionToken}x`)).status, 401, 'a mangled bearer token')
  const apiToken = String((await call('POST', '/api/v1/tokens', { name: 'probe', role: 'integration' })).body.token)

  // The broker: a device with its password, and one with a wrong password.
  const device = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { username: 'press1', password: secrets.device, reconnectPeriod: 0 })
  await device.publishAsync('devices/press1/counts', '{"good":1}', { qos: 1 })
  await device.endAsync()
  const wrong = await mqtt.connectAsync(`mqtt://127.0.0.1:${mqttPort}`, { username: 'press1', password: secrets.wrongDevice, reconnectPeriod: 0 }).then(
    (c) => (c.end(true), 'connected'),
    () => 'refused',
  )
  t.equal(wrong, 'refused', 'the wrong device password is refused')
  // Sync and bridge retry against a closed port for a moment: their errors are logged.
  await new Promise((resolve) => setTimeout(resolve, 1500))
  const exit = await child.kill('SIGTERM')
  t.equal(exit.code, 0, 'a clean shutdown')

  const log = child.stdout() + child.stderr()
  t.match(log, /mqtt client refused: wrong password/, 'the refused device was logged — by name, not by password')
  t.match(log, /cloud sync pushing/, 'sync was on')
  t.match(log, /gateway stopped/)
  for (const [name, value] of Object.entries({ ...secrets, sessionToken, apiToken })) t.notOk(log.includes(value), `the log does not contain the ${name} secret`)
})
