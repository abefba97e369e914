// The container's health check: GET /health of the gateway (or cloud-sync) on this host; exit 0 when it answers ok.
// HTTPS first (the gateway serves it when it listens beyond loopback, with its own certificate, so the
// certificate is not checked on this loopback call), then plain HTTP. Usage: node scripts/healthcheck.ts [PORT]
import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'

const port = Number(process.argv[2] ?? process.env.TAKT_HTTP_PORT ?? 8080)
const timeoutMs = 4000

function get(secure: boolean): Promise<{ status: number; body: string } | null> {
  return new Promise((resolve) => {
    const options = { host: '127.0.0.1', port, path: '/health', timeout: timeoutMs, ...(secure ? { rejectUnauthorized: false } : {}) }
    const req = (secure ? httpsRequest : httpRequest)(options, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (body += chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('timeout', () => req.destroy(new Error('timeout')))
    req.on('error', () => resolve(null))
    req.end()
  })
}

const answer = (await get(true)) ?? (await get(false))
if (!answer) {
  process.stderr.write(`healthcheck: nothing answers on 127.0.0.1:${port}\n`)
  process.exit(1)
}
let status: unknown
try {
  status = (JSON.parse(answer.body) as { status?: unknown }).status
} catch {
  status = undefined
}
if (answer.status !== 200 || status !== 'ok') {
  process.stderr.write(`healthcheck: /health answered ${answer.status} ${String(status ?? answer.body.slice(0, 200))}\n`)
  process.exit(1)
}
process.exit(0)
