// Test plumbing beside gateway.ts: a JSON client for any gateway URL, raw HTTP on a fresh connection, free ports, child-process gateways.
import { spawn, type ChildProcess } from 'node:child_process'
import { request } from 'node:http'
import { createServer } from 'node:net'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Reply } from './gateway.ts'

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
export const taktBin = join(repoRoot, 'bin', 'takt.ts')

export type Call = (method: string, path: string, body?: unknown, token?: string, headers?: Record<string, string>) => Promise<Reply>

/** The same call shape as the in-process test gateway's, for a gateway at any URL. */
export function jsonClient(url: string, defaultToken: string): Call {
  return async (method, path, body, token = defaultToken, headers = {}) => {
    const h: Record<string, string> = { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers }
    const init: RequestInit = { method, headers: h }
    if (body !== undefined) {
      init.body = typeof body === 'string' ? body : JSON.stringify(body)
      h['content-type'] ??= 'application/json'
    }
    const res = await fetch(url + path, init)
    const text = await res.text()
    return { status: res.status, body: text ? JSON.parse(text) : {}, headers: res.headers }
  }
}

export interface RawReply {
  status: number
  headers: Record<string, string | string[] | undefined>
  text: string
}

/**
 * One request on its own connection (no keep-alive pool), with exactly the headers given: no
 * content-type is added, and a body may be sent chunked (no content-length) in pieces.
 */
export function rawRequest(port: number, method: string, path: string, options: { headers?: Record<string, string>; body?: string | string[] } = {}): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, agent: false, headers: options.headers ?? {} }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (text += chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }))
      res.on('error', reject)
    })
    req.on('error', reject)
    const body = options.body
    if (Array.isArray(body)) for (const piece of body) req.write(piece)
    else if (body !== undefined) req.write(body)
    req.end()
  })
}

/** A port that was free a moment ago: listen on 0, note the port, close. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

export interface ChildGateway {
  child: ChildProcess
  port: number
  url: string
  stdout(): string
  stderr(): string
  /** Resolves with the exit code (or signal) once the process has ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  kill(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>
}

/** Runs `node bin/takt.ts <args>` with the given environment added, capturing its output. */
export function runTakt(args: string[], env: Record<string, string>): { child: ChildProcess; stdout(): string; stderr(): string; exited: ChildGateway['exited'] } {
  const child = spawn(process.execPath, [taktBin, ...args], { cwd: repoRoot, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stdout!.setEncoding('utf8').on('data', (s: string) => (out += s))
  child.stderr!.setEncoding('utf8').on('data', (s: string) => (err += s))
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })))
  return { child, stdout: () => out, stderr: () => err, exited }
}

/** Runs a takt subcommand to its end: its exit code and what it printed. */
export async function takt(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const run = runTakt(args, env)
  const { code } = await run.exited
  return { code, stdout: run.stdout(), stderr: run.stderr() }
}

/** Starts `takt edge` as a child process on a free port and waits until /health answers. */
export async function startChildGateway(env: Record<string, string>, timeoutMs = 20_000): Promise<ChildGateway> {
  const port = await freePort()
  const run = runTakt(['edge'], { TAKT_HTTP_HOST: '127.0.0.1', TAKT_MQTT_PORT: '0', TAKT_LOG_LEVEL: 'info', ...env, TAKT_HTTP_PORT: String(port) })
  const url = `http://127.0.0.1:${port}`
  let ended = false
  void run.exited.then(() => (ended = true))
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (ended) throw new Error(`takt edge exited before answering: ${run.stderr()}`)
    try {
      const res = await fetch(`${url}/health`)
      await res.text()
      if (res.status === 200) break
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      run.child.kill('SIGKILL')
      throw new Error(`takt edge did not answer within ${timeoutMs} ms: ${run.stderr()}`)
    }
    await new Promise((r) => setTimeout(r, 50))
  }
  const kill = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (!ended) run.child.kill(signal)
    return run.exited
  }
  return { child: run.child, port, url, stdout: run.stdout, stderr: run.stderr, exited: run.exited, kill }
}
