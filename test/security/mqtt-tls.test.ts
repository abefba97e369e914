// MQTT over TLS with the gateway's own self-signed certificate: the same one HTTPS uses, made once, verified by a client that trusts it.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import mqtt from 'mqtt'
import pino from 'pino'
import t from 'tap'
import { hashPassword } from '../../edge/api/passwords.ts'
import { loadConfig } from '../../edge/config.ts'
import { startGateway } from '../../edge/main.ts'
import { removeDir } from '../helpers/gateway.ts'

t.test('mqtt.tls without files serves the self-signed certificate that HTTPS serves', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'takt-mqtts-'))
  t.teardown(() => removeDir(dir))
  const file = join(dir, 'takt.yaml')
  writeFileSync(file, `mqtt:\n  tls: { port: 0 }\n  accounts:\n    - { username: press1, passwordHash: '${await hashPassword('press1-password')}', publish: ['devices/\${username}/#'] }\n`, { mode: 0o600 })
  let log = ''
  const logger = pino({ level: 'info' }, new Writable({ write: (chunk, _e, done) => ((log += String(chunk)), done()) }))
  const running = await startGateway(loadConfig({ file, env: { TAKT_DATA_DIR: join(dir, 'data'), TAKT_HTTP_PORT: '0', TAKT_MQTT_PORT: '0', TAKT_HTTP_TLS: 'self-signed' } }), { logger })
  t.teardown(() => running.stop())
  const port = running.connectivity.ports.tls
  t.type(port, 'number', 'MQTT over TLS listens')
  const fingerprints = [...log.matchAll(/"fingerprint256":"([0-9A-F:]+)"/g)].map((m) => m[1])
  t.equal(fingerprints.length, 2, 'both listeners log their certificate')
  t.equal(fingerprints[0], fingerprints[1], 'and it is one certificate')

  const ca = readFileSync(join(dir, 'data', 'tls', 'own', 'certs', 'gateway.pem'))
  const client = await mqtt.connectAsync(`mqtts://127.0.0.1:${port}`, { username: 'press1', password: 'press1-password', ca, servername: 'localhost', reconnectPeriod: 0 })
  await client.publishAsync('devices/press1/counts', '{"good":1}', { qos: 1 })
  t.pass('a client that trusts the certificate connects and publishes')
  await client.endAsync()

  const untrusting = await mqtt.connectAsync(`mqtts://127.0.0.1:${port}`, { username: 'press1', password: 'press1-password', servername: 'localhost', reconnectPeriod: 0, connectTimeout: 2000 }).then(
    (c) => (c.end(true), 'connected'),
    (error: Error) => error.message,
  )
  t.match(untrusting, /self-signed|certificate/i, 'a client that does not trust it is refused by its own TLS check')
})
