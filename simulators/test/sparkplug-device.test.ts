// The simulated Sparkplug B device (shipped profile) publishing into the gateway's embedded broker, read by the gateway's own Sparkplug host: the model's values, and each fault it supports as the right quality.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino from 'pino'
import t from 'tap'
import { hashPassword } from '../../edge/api/passwords.ts'
import { LineBroker } from '../../edge/connectivity/broker.ts'
import { SparkplugDeviceCollector } from '../../edge/connectivity/sparkplug/host.ts'
import type { Sample } from '../../edge/historian/historian.ts'
import { LineSimulator } from '../runner.ts'
import { checkScenarioFile } from '../scenario.ts'
import { SparkplugDevice } from '../sparkplug/device.ts'

const profiles = join(import.meta.dirname, '..', '..', 'hardware-profiles')
type Arrived = Sample & { arrivedAt: number }

t.test('the Sparkplug labeler: births, data by alias, and drop, slow, clock skew and counter reset seen as the host should see them', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'takt-sim-spb-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const broker = await LineBroker.start({
    logger: pino({ level: 'silent' }),
    accounts: [{ username: 'labeler-gw', passwordHash: await hashPassword('labeler-secret'), publish: ['spBv1.0/Demo/+/labeler-gw/#'], subscribe: ['spBv1.0/Demo/NCMD/labeler-gw', 'spBv1.0/Demo/DCMD/labeler-gw/#'] }],
  })
  const port = await broker.listenTcp(0, '127.0.0.1')
  t.teardown(() => broker.close())

  const scenario = [
    'scenario: sparkplug',
    'seed: 11',
    'timeScale: 20',
    'machines:',
    '  - name: labeler1',
    `    profile: ${profiles}/sparkplug-b-device.yaml`,
    `    sparkplug: { broker: 'mqtt://127.0.0.1:${port}', username: labeler-gw, password: labeler-secret, groupId: Demo, edgeNodeId: labeler-gw, deviceId: labeler }`,
    '    cycleTime: { mean: 2 }',
    '    scrapRate: 0.2',
    '    measurements: [{ name: fill_weight, mean: 12.5, sd: 0.1 }]',
    '',
  ].join('\n')
  writeFileSync(join(dir, 's.yaml'), scenario)
  const loaded = checkScenarioFile(join(dir, 's.yaml'))
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.problems))
  const profile = loaded.loaded.profiles.labeler1!
  if (profile.protocol !== 'sparkplug') throw new Error('not a Sparkplug profile')

  const latest = new Map<string, Arrived>()
  const all: Arrived[] = []
  const host = new SparkplugDeviceCollector({
    device: 'labeler1',
    broker,
    groupId: 'Demo',
    edgeNodeId: 'labeler-gw',
    deviceId: 'labeler',
    profile,
    logger: pino({ level: 'silent' }),
    sink: (samples) => {
      for (const s of samples) {
        const arrived = { ...s, arrivedAt: Date.now() }
        latest.set(s.signal.slice('labeler1/'.length), arrived)
        all.push(arrived)
      }
    },
  })
  host.start()
  t.teardown(() => host.stop())

  const sim = new LineSimulator(loaded.loaded, (m, p) => new SparkplugDevice(m, p), { tickMs: 20 })
  t.teardown(() => sim.stop())
  await sim.start()
  const get = (signal: string) => latest.get(signal)
  const since = (from: number, signal: string) => all.filter((s) => s.arrivedAt >= from && s.signal === `labeler1/${signal}`)
  const until = async (check: () => boolean, ms = 20_000) => {
    for (const end = Date.now() + ms; !check() && Date.now() < end; ) await new Promise((r) => setTimeout(r, 25))
    return check()
  }
  const everyGood = () => latest.size === profile.signals.length && [...latest.values()].every((s) => s.quality === 'good')
  const inject = (f: Record<string, unknown>) => sim.inject({ machine: 'labeler1', ...f } as Parameters<typeof sim.inject>[0])

  t.ok(await until(everyGood), 'the births arrive: every profile signal good')
  t.equal(get('state')?.value, 'RUNNING', 'the model runs: RUNNING in the profile’s state map')
  t.ok(await until(() => Number(get('good_count')?.value) > 5 && Number(get('reject_count')?.value) > 0), 'good and reject counts rise with the model (scrap rate 0.2)')
  t.ok(Math.abs(Number(get('fill_weight')?.value) - 12.5) < 1, `the measurement near its mean (${get('fill_weight')?.value})`)
  t.match(host.status(), { connected: true, bdSeq: 0 }, 'connected, first birth')

  t.throws(() => inject({ fault: 'stop_answering' }), /publishes unasked/, 'stop_answering does not fit a device that publishes unasked: refused with the reason')
  t.throws(() => inject({ fault: 'counter_wrap' }), /no good or total counter a wrap value/, 'counter_wrap needs a wrap value the profile does not give: refused')

  const drop = inject({ fault: 'drop_connections' })
  t.ok(await until(() => get('state')?.quality === 'bad'), 'connection cut: the broker publishes the NDEATH will, every signal Bad')
  t.equal(get('state')?.reason, 'device offline', 'with the reason')
  t.ok([...latest.values()].every((s) => s.quality === 'bad'), 'all of them')
  t.match(host.status(), { connected: false }, 'the host shows the device offline')
  sim.clear(drop.id)
  t.ok(await until(everyGood), 'cleared: the device reconnects and births again, every signal good')
  t.match(host.status(), { connected: true, bdSeq: 1 }, 'with the next bdSeq')

  const slow = inject({ fault: 'slow', delayMs: 800 })
  const slowFrom = Date.now() + 100
  t.ok(await until(() => since(slowFrom, 'good_count').length >= 3), 'data still arrives while slow')
  const late = since(slowFrom, 'good_count').map((s) => s.arrivedAt - s.timestamp)
  t.ok(late.every((ms) => ms >= 700), `each sample ~800 ms behind its timestamp (${late.join(', ')} ms)`)
  t.ok(since(slowFrom, 'good_count').every((s) => s.quality === 'good'), 'and still good: late is not wrong')
  sim.clear(slow.id)

  const skew = inject({ fault: 'clock_skew', skewMs: -600_000 })
  const skewFrom = Date.now() + 100
  t.ok(await until(() => since(skewFrom, 'good_count').some((s) => s.timestamp < Date.now() - 590_000)), 'a device clock ten minutes behind: the metric timestamps say so')
  sim.clear(skew.id)

  const before = Number(get('good_count')!.value)
  inject({ fault: 'counter_reset' })
  t.ok(await until(() => Number(get('good_count')?.value) < before && Number(get('good_count')?.value) < 50), `counter reset: the good count starts again from zero (was ${before})`)
  t.equal(get('good_count')?.quality, 'good', 'a reset counter is a good value; the signal rules count across it')
})
