// Test harness: a real gateway on a free port with its own data directory, and a small JSON client.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../../edge/config.ts'
import { startGateway, type RunningGateway } from '../../edge/main.ts'

export const adminToken = 'test-admin-token-0123456789abcdef'

export interface Reply {
  status: number
  body: Record<string, any>
  headers: Headers
}

export interface TestGateway {
  url: string
  dataDir: string
  running: RunningGateway
  call(method: string, path: string, body?: unknown, token?: string, headers?: Record<string, string>): Promise<Reply>
  stop(): Promise<void>
}

export async function startTestGateway(dataDir = mkdtempSync(join(tmpdir(), 'takt-test-'))): Promise<TestGateway> {
  const config = loadConfig({ env: { TAKT_DATA_DIR: dataDir, TAKT_HTTP_PORT: '0', TAKT_MQTT_PORT: '0', TAKT_LOG_LEVEL: 'silent', TAKT_ADMIN_TOKEN: adminToken } })
  const running = await startGateway(config)
  const url = `http://127.0.0.1:${running.port}`
  return {
    url,
    dataDir,
    running,
    async call(method, path, body, token = adminToken, headers = {}) {
      const init: RequestInit = { method, headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers } }
      if (body !== undefined) {
        init.body = typeof body === 'string' ? body : JSON.stringify(body)
        ;(init.headers as Record<string, string>)['content-type'] ??= 'application/json'
      }
      const res = await fetch(url + path, init)
      const text = await res.text()
      return { status: res.status, body: text ? JSON.parse(text) : {}, headers: res.headers }
    },
    async stop() {
      await running.stop()
    },
  }
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true })
}

/** A temp directory removed at the end of the test (or file) `t`. */
export function scratchDir(t: { teardown(fn: () => void): void }, prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  t.teardown(() => removeDir(dir))
  return dir
}
