// The demo gateway's place in the demo cloud: registered once as an administrator would, its token kept in the data directory; ERP's definitions sent to the line.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { eq } from 'drizzle-orm'
import { hashToken, newGatewayToken } from '../../cloud-sync/credentials.ts'
import type { CloudOrm } from '../../cloud-sync/database.ts'
import * as schema from '../../cloud-sync/schema.ts'

export class CloudCallError extends Error {}

async function call(url: string, adminToken: string, method: string, body: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(url, { method, headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify(body) })
  const text = await res.text()
  let json: Record<string, unknown> = {}
  try {
    json = JSON.parse(text) as Record<string, unknown>
  } catch {
    // A body that is not JSON is named by its status below.
  }
  return { status: res.status, json }
}

/**
 * The gateway's sync token: registered through the cloud's API the first time (POST /api/v1/gateways)
 * and kept, owner-readable only, in the demo's data directory. Should that file be lost, the demo,
 * which runs this cloud itself, gives the registered gateway a new token.
 */
export async function provisionGateway(cloudUrl: string, adminToken: string, orm: CloudOrm, dir: string, gatewayId: string, lineId: string): Promise<string> {
  const file = join(dir, 'gateway-sync-token')
  mkdirSync(dir, { recursive: true })
  if (existsSync(file)) {
    const kept = readFileSync(file, 'utf8').trim()
    const [row] = await orm.select({ tokenHash: schema.gateways.tokenHash }).from(schema.gateways).where(eq(schema.gateways.id, gatewayId))
    if (row?.tokenHash === hashToken(kept)) return kept
  }
  const registered = await call(`${cloudUrl}/api/v1/gateways`, adminToken, 'POST', { id: gatewayId, lineId })
  let token: string
  if (registered.status === 201 && typeof registered.json.token === 'string') token = registered.json.token
  else if (registered.status === 409) {
    token = newGatewayToken()
    await orm.update(schema.gateways).set({ tokenHash: hashToken(token) }).where(eq(schema.gateways.id, gatewayId))
  } else throw new CloudCallError(`the cloud refused to register gateway '${gatewayId}': ${registered.status} ${String(registered.json.detail ?? registered.json.title ?? '')}`)
  writeFileSync(file, `${token}\n`, { mode: 0o600 })
  chmodSync(file, 0o600)
  return token
}

/** Sends definitions to the line's intake in the cloud (POST /api/v1/lines/{lineId}/definitions), as ERP does. */
export async function postDefinitions(cloudUrl: string, adminToken: string, lineId: string, definitions: Array<{ kind: string; definition: unknown }>): Promise<{ changed: number; unchanged: number }> {
  const res = await call(`${cloudUrl}/api/v1/lines/${encodeURIComponent(lineId)}/definitions`, adminToken, 'POST', { definitions })
  if (res.status !== 200) throw new CloudCallError(`the cloud refused the line's definitions: ${res.status} ${JSON.stringify(res.json.errors ?? res.json.detail ?? '')}`)
  return { changed: Number(res.json.changed), unchanged: Number(res.json.unchanged) }
}
