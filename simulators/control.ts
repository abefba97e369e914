// The simulator's live control endpoint: inject and clear faults, start and end planned stops, read the line's state.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Fault } from './scenario.ts'
import type { LineSimulator } from './runner.ts'

const maxBody = 16 * 1024

function send(res: ServerResponse, status: number, body?: unknown): void {
  if (body === undefined) {
    res.writeHead(status).end()
    return
  }
  const type = status >= 400 ? 'application/problem+json' : 'application/json'
  res.writeHead(status, { 'content-type': type }).end(JSON.stringify(body))
}

const problem = (status: number, code: string, detail: string, extra: Record<string, unknown> = {}) => ({ type: `urn:takt:sim:${code}`, title: code, status, code, detail, ...extra })

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).length
    if (size > maxBody) throw Object.assign(new Error(`the body is over ${maxBody} bytes`), { status: 413 })
    chunks.push(chunk as Buffer)
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null')
  } catch (error) {
    throw Object.assign(new Error(`the body is not JSON: ${(error as Error).message}`), { status: 400 })
  }
}

async function route(sim: LineSimulator, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://sim')
  const parts = url.pathname.split('/').filter(Boolean)
  if (req.method === 'GET' && url.pathname === '/status') {
    return send(res, 200, { scenario: sim.loaded.scenario.scenario, modelTimeMs: sim.modelTime(), endpoints: sim.endpoints, machines: sim.model.snapshots(), faults: sim.faults() })
  }
  if (req.method === 'POST' && url.pathname === '/faults') {
    const parsed = Fault.omit({ at: true }).safeParse(await readJson(req))
    if (!parsed.success) {
      const errors = parsed.error.issues.map((i) => ({ path: i.path.join('.') || '(body)', message: i.message }))
      return send(res, 422, problem(422, 'fault_invalid', errors.map((e) => `${e.path}: ${e.message}`).join('; '), { errors }))
    }
    try {
      return send(res, 201, sim.inject(parsed.data))
    } catch (error) {
      return send(res, 422, problem(422, 'fault_refused', (error as Error).message))
    }
  }
  if (req.method === 'DELETE' && parts[0] === 'faults' && parts.length === 2) {
    return sim.clear(Number(parts[1])) ? send(res, 204) : send(res, 404, problem(404, 'not_found', `there is no active fault ${parts[1]}`))
  }
  if (req.method === 'POST' && parts[0] === 'machines' && parts[2] === 'planned-stop' && parts.length === 3) {
    const body = (await readJson(req)) as { on?: unknown } | null
    if (typeof body?.on !== 'boolean') return send(res, 422, problem(422, 'body_invalid', 'send { "on": true } or { "on": false }'))
    try {
      sim.model.setPlannedStop(decodeURIComponent(parts[1]!), body.on)
    } catch (error) {
      return send(res, 404, problem(404, 'not_found', (error as Error).message))
    }
    return send(res, 200, sim.model.snapshot(decodeURIComponent(parts[1]!)))
  }
  return send(res, 404, problem(404, 'route_not_found', `there is no route ${req.method} ${url.pathname}`))
}

export async function startControl(sim: LineSimulator, host: string, port: number): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    route(sim, req, res).catch((error: Error & { status?: number }) => send(res, error.status ?? 500, problem(error.status ?? 500, 'request_failed', error.message)))
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => resolve())
  })
  return { server, url: `http://${host}:${(server.address() as AddressInfo).port}` }
}
