// Central credentials: gateway and admin tokens, random and shown once, stored only as SHA-256 hashes.
import { createHash, randomBytes } from 'node:crypto'
import { eq } from 'drizzle-orm'
import { genesisHash } from '../edge/store/event-log.ts'
import type { CloudOrm } from './database.ts'
import * as schema from './schema.ts'

export type Principal = { kind: 'gateway'; gatewayId: string } | { kind: 'admin' }

/** A token has 256 random bits, so one unsalted SHA-256 is enough to make the stored hash useless to a reader of the database. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex')
}

export function newGatewayToken(): string {
  return `takt_gw_${randomBytes(32).toString('base64url')}`
}

export async function principalOf(orm: CloudOrm, token: string): Promise<Principal | null> {
  const h = hashToken(token)
  const [g] = await orm.select({ id: schema.gateways.id }).from(schema.gateways).where(eq(schema.gateways.tokenHash, h))
  if (g) return { kind: 'gateway', gatewayId: g.id }
  const [a] = await orm.select({ role: schema.apiTokens.role }).from(schema.apiTokens).where(eq(schema.apiTokens.tokenHash, h))
  return a?.role === 'admin' ? { kind: 'admin' } : null
}

/** Provisions the admin token given at start (TAKT_ADMIN_TOKEN); true when it was new. */
export async function ensureAdminToken(orm: CloudOrm, token: string): Promise<boolean> {
  const rows = await orm.insert(schema.apiTokens).values({ tokenHash: hashToken(token), role: 'admin' }).onConflictDoNothing().returning({ h: schema.apiTokens.tokenHash })
  return rows.length > 0
}

/** Registers a gateway and returns its token, the only time it is ever visible; null when the id is taken. */
export async function registerGateway(orm: CloudOrm, id: string, lineId: string | null): Promise<string | null> {
  const token = newGatewayToken()
  const rows = await orm
    .insert(schema.gateways)
    .values({ id, lineId, tokenHash: hashToken(token), headHash: genesisHash })
    .onConflictDoNothing()
    .returning({ id: schema.gateways.id })
  return rows.length > 0 ? token : null
}
