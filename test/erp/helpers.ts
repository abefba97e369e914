// ERP test plumbing: the real gateway on a free port, posting XML, reading XML answers, the fixtures.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { loadConfig } from '../../edge/config.ts'
import type { GatewayParts } from '../../edge/gateway.ts'
import { startGateway, type RunningGateway } from '../../edge/main.ts'
import { parseXml, type XmlElement } from '../../edge/erp/xml.ts'
import { jsonClient, type Call } from '../helpers/client.ts'
import { adminToken, removeDir } from '../helpers/gateway.ts'

export { adminToken }

const fixtures = join(dirname(fileURLToPath(import.meta.url)), 'fixtures')
export const fixture = (name: string) => readFileSync(join(fixtures, name), 'utf8')

export interface XmlReply {
  status: number
  contentType: string
  text: string
  /** The JSON body, for JSON and problem+json answers. */
  json: Record<string, any> | null
  /** The XML body, parsed, for XML answers. */
  xml: XmlElement | null
}

/** The `erp` section of the gateway's configuration file, as a test sets it. */
export interface ErpSettings {
  maxDocumentBytes?: number
  defaultVersion?: string
  push?: { url: string; authorization?: string; segments?: boolean; timeoutMs?: number; minBackoffMs?: number; maxBackoffMs?: number; idleMs?: number } | null
}

export interface ErpTestGateway {
  url: string
  port: number
  dataDir: string
  running: RunningGateway
  call: Call
  post(body: string, headers?: Record<string, string>): Promise<XmlReply>
  get(path: string, headers?: Record<string, string>): Promise<XmlReply>
  stop(): Promise<void>
}

async function reply(res: Response): Promise<XmlReply> {
  const text = await res.text()
  const contentType = res.headers.get('content-type') ?? ''
  return { status: res.status, contentType, text, json: /json/.test(contentType) ? JSON.parse(text) : null, xml: /xml/.test(contentType) ? parseXml(text) : null }
}

/**
 * The real gateway (edge/main.ts) with its own data directory and `erp` settings in its config
 * file; stopped and removed when `t` ends. Given a `dataDir`, it opens that one (a restart) and
 * leaves removing it to the caller.
 */
export async function erpGateway(t: { teardown(fn: () => Promise<void>): void }, settings: ErpSettings = {}, options: { dataDir?: string; env?: Record<string, string>; parts?: GatewayParts } = {}): Promise<ErpTestGateway> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'takt-erp-'))
  const extraEnv = options.env ?? {}
  let stopped = false
  // JSON is YAML: the settings go through the same file loading and validation an installer's do.
  const file = join(dataDir, 'gateway.yaml')
  writeFileSync(file, JSON.stringify({ mqtt: { host: '127.0.0.1' }, erp: settings }))
  const config = loadConfig({ file, env: { TAKT_DATA_DIR: dataDir, TAKT_HTTP_PORT: '0', TAKT_MQTT_PORT: '0', TAKT_LOG_LEVEL: 'silent', TAKT_ADMIN_TOKEN: adminToken, ...extraEnv } })
  const running = await startGateway(config, options.parts)
  const url = `http://127.0.0.1:${running.port}`
  const auth = { authorization: `Bearer ${adminToken}` }
  const gw: ErpTestGateway = {
    url,
    port: running.port,
    dataDir,
    running,
    call: jsonClient(url, adminToken),
    post: async (body, headers = {}) => reply(await fetch(`${url}/api/v1/erp/b2mml`, { method: 'POST', headers: { ...auth, 'content-type': 'application/xml', ...headers }, body })),
    get: async (path, headers = {}) => reply(await fetch(url + path, { headers: { ...auth, ...headers } })),
    stop: async () => {
      if (stopped) return
      stopped = true
      await running.stop()
      if (!options.dataDir) removeDir(dataDir)
    },
  }
  t.teardown(gw.stop)
  return gw
}

/** Children by local name, and a path of names down the tree (first match at each step). */
export const kids = (el: XmlElement | null | undefined, name: string) => (el ? el.children.filter((c) => c.name === name) : [])
export function at(el: XmlElement | null | undefined, ...names: string[]): XmlElement | undefined {
  let cur: XmlElement | undefined = el ?? undefined
  for (const n of names) cur = cur?.children.find((c) => c.name === n)
  return cur
}
export const textAt = (el: XmlElement | null | undefined, ...names: string[]) => at(el, ...names)?.text.trim()

export async function eventSeq(gw: ErpTestGateway): Promise<number> {
  return (await gw.call('GET', '/health', undefined, '')).body.eventSeq as number
}

/** The master data every schedule test needs: the V0600 line, its materials and lots, its people. */
export async function loadPasteLine(gw: ErpTestGateway): Promise<void> {
  for (const name of ['v0600-equipment.xml', 'v0600-material.xml', 'v0600-personnel.xml']) {
    const r = await gw.post(fixture(name))
    if (r.status !== 200) throw new Error(`${name}: ${r.status} ${r.text}`)
  }
}

/** Polls `check` until it returns a value (not undefined/false), or fails after `timeoutMs`. */
export async function until<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined && value !== false) return value
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}
