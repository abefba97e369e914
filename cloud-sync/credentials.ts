// Central credentials: gateway and admin tokens, random and shown once, stored only as SHA-256 hashes.
import { createHash, randomBytes } from 'node:crypto'
import { and, eq, gt, sql } from 'drizzle-orm'
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

/**
 * Who a token is. A gateway's current token, or its previous one while that is still accepted: after
 * a rotation the old token stays valid until the grace period ends or the new token is first used,
 * whichever comes first (docs/cloud.md, "Rotating a gateway's token").
 */
export async function principalOf(orm: CloudOrm, token: string): Promise<Principal | null> {
  const h = hashToken(token)
  const g = schema.gateways
  const [current] = await orm.select({ id: g.id, previous: g.previousTokenHash }).from(g).where(eq(g.tokenHash, h))
  if (current) {
    // The new token's first use: the gateway has switched, so the old one stops here.
    if (current.previous !== null) await orm.update(g).set({ previousTokenHash: null, previousTokenUntil: null }).where(eq(g.id, current.id))
    return { kind: 'gateway', gatewayId: current.id }
  }
  const [previous] = await orm
    .select({ id: g.id })
    .from(g)
    .where(and(eq(g.previousTokenHash, h), gt(g.previousTokenUntil, sql`now()`)))
  if (previous) return { kind: 'gateway', gatewayId: previous.id }
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

/** Longest grace period a rotation may give the old token. */
export const maxGraceSeconds = 7 * 86_400

export interface Rotated {
  token: string
  /** Until when the old token is still accepted (unless the new one is used first); null with no grace. */
  previousValidUntil: string | null
}

/**
 * Issues a gateway a new token. The old one stays valid for `graceSeconds` or until the new one is
 * first used; a token from an earlier rotation still in its grace period is dropped. Null when the
 * gateway is not registered.
 */
export async function rotateGatewayToken(orm: CloudOrm, id: string, graceSeconds: number): Promise<Rotated | null> {
  const token = newGatewayToken()
  const g = schema.gateways
  const grace = graceSeconds > 0
  const rows = await orm
    .update(g)
    .set({
      previousTokenHash: grace ? sql`${g.tokenHash}` : null,
      previousTokenUntil: grace ? sql`now() + ${graceSeconds}::int * interval '1 second'` : null,
      tokenHash: hashToken(token),
      tokenRotatedAt: sql`now()`,
    })
    .where(eq(g.id, id))
    .returning({ until: g.previousTokenUntil })
  if (rows.length === 0) return null
  const until = rows[0]!.until
  return { token, previousValidUntil: until === null ? null : new Date(until).toISOString() }
}
