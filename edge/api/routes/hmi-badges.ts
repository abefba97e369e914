// Badge and PIN for operators at a terminal: an administrator sets them, an operator logs in with them (locked after repeated wrong PINs).
import { z } from '@hono/zod-openapi'
import { badgeForbiddenRoles, guard, recordLockout, terminalOf } from '../auth.ts'
import type { Api, ApiDeps } from '../context.ts'
import { ProblemError, problem } from '../problem.ts'
import { declare, valid } from '../route.ts'
import * as S from '../schemas.ts'

const badgeId = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:\-/]*$/, 'letters, digits and . _ : - / only')

/** A PIN anyone would try first is no PIN: the same digit throughout, or a straight run up or down. */
function guessable(pin: string): boolean {
  const steps = [...pin].slice(1).map((d, i) => Number(d) - Number(pin[i]))
  return steps.every((s) => s === 0) || steps.every((s) => s === 1) || steps.every((s) => s === -1)
}

export const SetBadge = z
  .strictObject({
    badgeId,
    pin: z
      .string()
      .regex(/^[0-9]{4,12}$/, '4 to 12 digits')
      .refine((pin) => !guessable(pin), 'not one digit repeated, nor a run like 1234 or 9876'),
  })
  .openapi('SetBadge')

export const BadgeLoginRequest = z.strictObject({ badgeId, pin: z.string().min(1).max(64) }).openapi('BadgeLogin')

export function badgeRoutes(app: Api, deps: ApiDeps): void {
  app.openapi(
    declare({ method: 'post', path: '/api/v1/auth/badge', tag: 'Accounts', summary: 'Log in with a badge and a PIN; returns a bearer session token', body: BadgeLoginRequest, anonymous: true }),
    async (c) => {
      const { badgeId: badge, pin } = valid(c, 'json', BadgeLoginRequest)
      const terminal = terminalOf(c, deps.accounts)
      const now = deps.clock.now()
      const attempt = await deps.accounts.badgeLogin(badge, pin, now)
      if (attempt.ok) return c.json(attempt.session, 200)
      if (attempt.locked) {
        const recordedSeq = attempt.lockout ? await recordLockout(deps, attempt.lockout, 'badge', terminal) : null
        const seconds = Math.max(1, Math.ceil((Date.parse(attempt.until) - now.getTime()) / 1000))
        const locked = problem(c, new ProblemError(429, 'badge_locked', `This badge is locked after too many wrong PINs; try again in ${Math.ceil(seconds / 60)} min, or ask an administrator to set a new PIN.`, { lockedUntil: attempt.until, ...(recordedSeq ? { recordedSeq } : {}) }))
        locked.headers.set('retry-after', String(seconds))
        return locked
      }
      throw new ProblemError(401, 'login_failed', 'The badge or the PIN is wrong, or the account is inactive.')
    },
  )

  app.openapi(declare({ method: 'put', path: '/api/v1/people/{id}/badge', tag: 'Accounts', summary: "Set a person's badge and PIN", params: S.PathId, body: SetBadge }), async (c) => {
    guard(c, ['admin'])
    const { id } = valid(c, 'param', S.PathId)
    const body = valid(c, 'json', SetBadge)
    const person = deps.store.view.person(id)
    if (!person) throw new ProblemError(404, 'not_found', `There is no person '${id}'; define the person first.`)
    const strong = person.roles.filter((r) => badgeForbiddenRoles.includes(r))
    if (strong.length > 0) throw new ProblemError(422, 'badge_not_allowed', `${person.name} holds the role ${strong.join(', ')}, which needs a password login; a PIN is too weak for it.`)
    const outcome = await deps.accounts.setBadge(id, body.badgeId, body.pin, deps.clock.now())
    if (outcome === 'badge_taken') throw new ProblemError(409, 'badge_taken', `Badge '${body.badgeId}' belongs to someone else; take it from them first.`)
    return c.json({ personId: id, badgeId: body.badgeId, badgeSet: true }, 200)
  })

  app.openapi(declare({ method: 'delete', path: '/api/v1/people/{id}/badge', tag: 'Accounts', summary: "Take a person's badge away", params: S.PathId }), (c) => {
    guard(c, ['admin'])
    const { id } = valid(c, 'param', S.PathId)
    if (!deps.accounts.removeBadge(id)) throw new ProblemError(404, 'not_found', `'${id}' has no badge.`)
    return c.json({ personId: id, badgeRemoved: true }, 200)
  })
}
