// Password and token hashing: scrypt for what people choose, SHA-256 for random high-entropy tokens.
import { createHash, randomBytes, scrypt, timingSafeEqual, type BinaryLike, type ScryptOptions } from 'node:crypto'

const N = 16384
const r = 8
const p = 1

// scrypt runs on libuv's thread pool: a login never stalls the event loop that serves the line.
function derive(password: BinaryLike, salt: BinaryLike, length: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scrypt(password, salt, length, options, (error, key) => (error ? reject(error) : resolve(key))))
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16)
  const hash = await derive(password, salt, 32, { N, r, p })
  return `scrypt$${N}$${r}$${p}$${salt.toString('base64url')}$${hash.toString('base64url')}`
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, rr, pp, salt, hash] = stored.split('$')
  if (scheme !== 'scrypt' || !salt || !hash) return false
  const expected = Buffer.from(hash, 'base64url')
  const actual = await derive(password, Buffer.from(salt, 'base64url'), expected.length, { N: Number(n), r: Number(rr), p: Number(pp) })
  return timingSafeEqual(expected, actual)
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex')
}

export function newToken(prefix: string): string {
  return `${prefix}_${randomBytes(32).toString('base64url')}`
}

/** Password rules (21 CFR 11.300(b)): length, no reuse of the last few, and a maximum age. */
export interface PasswordPolicy {
  minLength: number
  /** A new password may not equal any of this many most recent ones (the current one included). */
  history: number
  /** Days after which a password must be changed at the next login; null: never. */
  maxAgeDays: number | null
  /** A password an administrator set must be replaced by its owner at the next login, so only they know theirs (11.300(a)). */
  changeAfterReset: boolean
}

export const defaultPasswordPolicy: PasswordPolicy = { minLength: 12, history: 5, maxAgeDays: 90, changeAfterReset: false }

/** Whether a password set at `setAt` has outlived the policy at `now`. */
export function passwordExpired(setAt: string, now: Date, policy: PasswordPolicy): boolean {
  return policy.maxAgeDays !== null && now.getTime() - Date.parse(setAt) >= policy.maxAgeDays * 86400_000
}
