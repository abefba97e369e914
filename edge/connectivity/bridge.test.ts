// Store-and-forward to a real Mosquitto: nothing is lost while it is down, and order is kept.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import mqtt from 'mqtt'
import pino from 'pino'
import t from 'tap'
import { freePort } from '../../test/helpers/client.ts'
import { EnterpriseBridge } from './bridge.ts'

async function startMosquitto(dir: string, port: number): Promise<ChildProcess> {
  const conf = join(dir, 'mosquitto.conf')
  // `user root`: as root, mosquitto would otherwise drop to its own user and could not write the test folder.
  writeFileSync(conf, `user root\nlistener ${port} 127.0.0.1\nallow_anonymous true\npersistence true\npersistence_location ${dir}/\n`)
  const child = spawn('mosquitto', ['-c', conf], { stdio: 'ignore' })
  for (let i = 0; i < 50; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const c = mqtt.connect(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0, connectTimeout: 500 })
      c.once('connect', () => c.end(true, () => resolve(true)))
      c.once('error', () => c.end(true, () => resolve(false)))
    })
    if (up) return child
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error('mosquitto did not start')
}

const stop = (child: ChildProcess) => new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : (child.once('exit', () => resolve()), child.kill('SIGTERM'))))

t.test('messages published while the enterprise broker is down arrive, in order, when it is back', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'takt-bridge-'))
  const port = await freePort()
  let mosquitto = await startMosquitto(dir, port)
  t.teardown(async () => {
    await stop(mosquitto)
    rmSync(dir, { recursive: true, force: true })
  })
  // A plant system with a persistent session, so it receives what arrives while it is away too.
  const plant = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: 'plant-historian', clean: false, protocolVersion: 4, reconnectPeriod: 200 })
  await plant.subscribeAsync('plant1/#', { qos: 1 })
  const got: string[] = []
  plant.on('message', (topic, payload) => got.push(`${topic}=${payload.toString()}`))

  let closed = false
  const bridge = new EnterpriseBridge({ url: `mqtt://127.0.0.1:${port}`, clientId: 'takt-line-1', outboxFile: join(dir, 'outbox.db'), remotePrefix: 'plant1/', reconnectMs: 200, logger: pino({ level: 'silent' }) })
  t.teardown(() => (closed ? undefined : bridge.close()))
  const until = async (check: () => boolean, what: string) => {
    for (let i = 0; i < 100 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 50))
    t.ok(check(), what)
  }
  await until(() => bridge.status().connected, 'the bridge connects')
  bridge.forward('ACME/L1/count', Buffer.from('0'), false)
  await until(() => got.length === 1, 'a message crosses while the link is up')

  await stop(mosquitto)
  await until(() => !bridge.status().connected, 'the bridge notices the broker is gone')
  for (let i = 1; i <= 50; i++) bridge.forward('ACME/L1/count', Buffer.from(String(i)), false)
  t.equal(bridge.status().queued, 50, 'messages wait on disk')

  mosquitto = await startMosquitto(dir, port)
  await until(() => got.length === 51, 'every queued message arrives after the broker is back')
  t.same(got, Array.from({ length: 51 }, (_, i) => `plant1/ACME/L1/count=${i}`), 'in the order they were published')
  await until(() => bridge.status().queued === 0, 'the outbox is empty once acknowledged')

  // The gateway restarts while the broker is down: the outbox is on disk and is sent by the next bridge.
  await stop(mosquitto)
  await until(() => !bridge.status().connected, 'offline again')
  bridge.forward('ACME/L1/count', Buffer.from('after-restart'), false)
  await bridge.close()
  closed = true
  mosquitto = await startMosquitto(dir, port)
  const next = new EnterpriseBridge({ url: `mqtt://127.0.0.1:${port}`, clientId: 'takt-line-1', outboxFile: join(dir, 'outbox.db'), remotePrefix: 'plant1/', reconnectMs: 200, logger: pino({ level: 'silent' }) })
  t.teardown(() => next.close())
  await until(() => got.at(-1) === 'plant1/ACME/L1/count=after-restart', 'a message queued before a gateway restart is delivered after it')
  await plant.endAsync(true)
})
