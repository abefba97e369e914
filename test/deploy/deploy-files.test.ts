// The installation files: the container health check against a real gateway (HTTP and HTTPS, and nothing
// listening), the Dockerfile's sources and ports, and the systemd unit (checked by systemd-analyze where present).
import { execFile, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { loadConfig } from '../../edge/config.ts'
import { startGateway } from '../../edge/main.ts'
import { removeDir } from '../helpers/gateway.ts'

const root = join(import.meta.dirname, '..', '..')
const run = promisify(execFile)

async function healthcheck(port: number): Promise<{ code: number; stderr: string }> {
  try {
    await run(process.execPath, [join(root, 'scripts', 'healthcheck.ts'), String(port)], { timeout: 20_000 })
    return { code: 0, stderr: '' }
  } catch (error) {
    const e = error as { code?: number; stderr?: string }
    return { code: typeof e.code === 'number' ? e.code : -1, stderr: e.stderr ?? '' }
  }
}

async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  await new Promise((resolve) => server.close(resolve))
  return port
}

for (const tls of ['off', 'self-signed'] as const) {
  t.test(`the health check passes against a gateway serving ${tls === 'off' ? 'HTTP' : 'HTTPS with its self-signed certificate'}`, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'takt-healthcheck-'))
    const config = loadConfig({ env: { TAKT_DATA_DIR: dir, TAKT_HTTP_PORT: '0', TAKT_MQTT_PORT: '0', TAKT_LOG_LEVEL: 'silent', TAKT_HTTP_TLS: tls } })
    const running = await startGateway(config)
    t.teardown(async () => {
      await running.stop()
      removeDir(dir)
    })
    t.equal(running.scheme, tls === 'off' ? 'http' : 'https')
    t.same(await healthcheck(running.port), { code: 0, stderr: '' })
  })
}

t.test('the health check fails when nothing answers, or something that is not Takt answers', async (t) => {
  const nothing = await healthcheck(await freePort())
  t.equal(nothing.code, 1)
  t.match(nothing.stderr, /nothing answers on 127\.0\.0\.1:\d+/)
  // A server that answers /health with something else.
  const { createServer: createHttpServer } = await import('node:http')
  const other = createHttpServer((_req, res) => res.writeHead(503, { 'content-type': 'application/json' }).end('{"status":"starting"}'))
  await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise((resolve) => other.close(resolve)))
  const wrong = await healthcheck((other.address() as { port: number }).port)
  t.equal(wrong.code, 1)
  t.match(wrong.stderr, /answered 503 starting/)
})

t.test('Dockerfile.arm64: every COPY source exists, the default ports are exposed, it runs as a non-root user with a data volume', async (t) => {
  const docker = readFileSync(join(root, 'Dockerfile.arm64'), 'utf8')
  const copies = [...docker.matchAll(/^COPY (?!--from)(.+) \S+$/gm)].flatMap((m) => m[1]!.split(/\s+/).filter((s) => !s.startsWith('--')))
  t.ok(copies.length >= 5, 'copies the application')
  for (const source of copies) t.ok(existsSync(join(root, source)), `COPY ${source} exists`)
  const defaults = loadConfig({ env: {} })
  const exposed = /^EXPOSE (.+)$/m.exec(docker)![1]!.split(/\s+/).map(Number)
  t.ok(exposed.includes(defaults.http.port), `HTTP ${defaults.http.port} exposed`)
  t.ok(exposed.includes(defaults.mqtt.port), `MQTT ${defaults.mqtt.port} exposed`)
  t.match(docker, /^FROM --platform=linux\/arm64 node:24-bookworm-slim$/m, 'Node 24 slim for arm64')
  t.match(docker, /^USER takt$/m)
  t.match(docker, /^VOLUME \["\/var\/lib\/takt"\]$/m)
  t.match(docker, /^ENV [^]*TAKT_DATA_DIR=\/var\/lib\/takt/m)
  t.match(docker, /^HEALTHCHECK .*scripts\/healthcheck\.ts/m)
})

t.test('the systemd unit starts the gateway from the installed tree and passes systemd-analyze', async (t) => {
  const file = join(root, 'deploy', 'takt-edge.service')
  const unit = readFileSync(file, 'utf8')
  t.match(unit, /^ExecStart=\/usr\/bin\/node \/opt\/takt\/bin\/takt\.ts edge$/m)
  t.match(unit, /^User=takt$/m)
  t.match(unit, /^ReadWritePaths=\/var\/lib\/takt$/m)
  t.match(unit, /^RestartPreventExitStatus=2$/m, 'a configuration error (exit 2) is not restarted')
  const analyze = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8' })
  if (analyze.error) {
    t.comment(`systemd-analyze is not installed here (${analyze.error.message}): the unit's syntax was not checked`)
    return
  }
  t.equal(analyze.status, 0, analyze.stderr)
})
