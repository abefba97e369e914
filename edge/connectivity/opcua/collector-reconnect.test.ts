// The OPC UA collector against the simulator in a child process that is killed, restarted on the same port, or frozen; and a server that never answers.
import { createServer, type AddressInfo, type Socket } from 'node:net'
import t from 'tap'
import { startMachineProcess } from '../../../simulators/opcua/machine-process.ts'
import { freePort } from '../../../test/helpers/client.ts'
import { collect, everyGood, fixture, packmlProfile, silent, type Fixture } from './collector-fixture.ts'
import { OpcUaCollector } from './collector.ts'

// Three server processes start here, each loading node-opcua and the standard nodeset (seconds apiece on a busy
// machine), and the watchdog waits 10 s by design: more than the suite's default two minutes may be needed.
t.setTimeout(240_000)

let f: Fixture
t.before(async () => void (f = await fixture('reconnect')))
t.teardown(() => f.remove())

t.test('a killed server: Bad with the reason, then values again once it is back on the same port', async (t) => {
  const port = await freePort()
  let server = await startMachineProcess({ port, pkiDir: f.serverPki, cycleTimeMs: 200 })
  t.teardown(() => server.kill())
  const { collector, all, get, latest, until } = collect(t, f, { endpoint: server.endpoint })
  t.ok(await until(() => everyGood(latest, 6)), 'subscribed')
  await server.kill()
  t.ok(await until(() => [...latest.values()].every((s) => s.quality === 'bad')), 'every signal turns Bad')
  t.match(get('state')?.reason, /connection/, `the reason: ${get('state')?.reason}`)
  t.notOk(collector.status().connected, 'status: not connected')
  t.match(collector.status().lastError, /connection/, 'status: the last error')
  const restartedAt = Date.now()
  server = await startMachineProcess({ port, pkiDir: f.serverPki, cycleTimeMs: 200 })
  t.ok(await until(() => everyGood(latest, 6)), 'every signal is good again after the restart')
  t.ok(await until(() => all.some((s) => s.signal === 'filler1/processed_count' && s.quality === 'good' && s.timestamp >= restartedAt)), 'new values flow from the restarted server')
  t.ok(collector.status().connected, 'status: connected')
})

t.test('a frozen server (SIGSTOP) is found by the keep-alive watchdog', async (t) => {
  const port = await freePort()
  const server = await startMachineProcess({ port, pkiDir: f.serverPki, cycleTimeMs: 200 })
  t.teardown(() => (process.kill(server.pid, 'SIGCONT'), server.kill()))
  const { get, latest, until } = collect(t, f, { endpoint: server.endpoint, profile: packmlProfile({ securityMode: 'None', securityPolicy: 'None', publishingIntervalMs: 100 }) })
  t.ok(await until(() => everyGood(latest, 6)), 'subscribed')
  process.kill(server.pid, 'SIGSTOP')
  t.ok(await until(() => get('state')?.quality === 'bad', 30_000), 'Bad while the server answers nothing, though its socket is open')
  t.match(get('state')?.reason, /no publish response for \d+ ms/, 'found by the watchdog')
  process.kill(server.pid, 'SIGCONT')
  t.ok(await until(() => everyGood(latest, 6), 30_000), 'good again once it runs')
})

t.test('stop() does not wait for a connect to a server that never answers', async (t) => {
  // A TCP listener that accepts and says nothing: the OPC UA Hello is never acknowledged.
  const sockets = new Set<Socket>()
  const silentServer = createServer((socket) => void sockets.add(socket))
  await new Promise<void>((resolve) => silentServer.listen(0, '127.0.0.1', resolve))
  t.teardown(() => {
    for (const s of sockets) s.destroy()
    silentServer.close()
  })
  const port = (silentServer.address() as AddressInfo).port
  const collector = new OpcUaCollector({ device: 'filler1', endpoint: `opc.tcp://127.0.0.1:${port}`, pkiDir: f.clientPki, profile: packmlProfile({ securityMode: 'None', securityPolicy: 'None' }), logger: silent, sink: () => {} })
  collector.start()
  for (let i = 0; i < 100 && sockets.size === 0; i++) await new Promise((resolve) => setTimeout(resolve, 50))
  t.equal(sockets.size, 1, 'the collector is connecting')
  const started = Date.now()
  await collector.stop()
  t.ok(Date.now() - started < 2_000, `stopped in ${Date.now() - started} ms, not after the 15 s connect timeout`)
  t.notOk(collector.status().connected, 'not connected')
})
