// Login for people (password rules, expiry, lockout), API tokens for integrations, passwords set by an administrator, deactivation, terminals.
import { z } from '@hono/zod-openapi'
import { accept } from '../../core/decision.ts'
import { event } from '../../core/events.ts'
import { definePerson } from '../../core/master-data.ts'
import { actorOf, guard, recordLockout, terminalOf } from '../auth.ts'
import { command, type Api, type ApiDeps } from '../context.ts'
import { ProblemError, problem } from '../problem.ts'
import { declare, valid } from '../route.ts'
import * as S from '../schemas.ts'

const Login = z
  .strictObject({
    username: S.Login.shape.username,
    password: S.Login.shape.password,
    newPassword: z.string().min(1).max(200).optional().describe('A new password, replacing the current one at this login: required once the current one has expired'),
  })
  .openapi('PasswordLogin')

const TerminalBody = z
  .strictObject({
    name: z.string().min(1).max(200),
    location: z.string().min(1).max(200),
    active: z.boolean().default(true),
    rotateSecret: z.boolean().default(false).describe('Issue a new secret, the old one stops working at once (a new terminal always gets one)'),
  })
  .openapi('Terminal')

const Deactivation = z.strictObject({ reason: z.string().min(1).max(1000) }).openapi('Deactivation')

export function accountRoutes(app: Api, deps: ApiDeps): void {
  app.openapi(declare({ method: 'post', path: '/api/v1/auth/login', tag: 'Accounts', summary: 'Log in with user id and password (and a new password when it expired); returns a bearer session token', body: Login, anonymous: true }), async (c) => {
    const { username, password, newPassword } = valid(c, 'json', Login)
    const terminal = terminalOf(c, deps.accounts)
    const now = deps.clock.now()
    const login = await deps.accounts.login(username, password, now, newPassword)
    if (login.ok) return c.json(login.session, 200)
    if (login.why === 'locked') {
      const recordedSeq = login.lockout ? await recordLockout(deps, login.lockout, 'login', terminal) : null
      const seconds = Math.max(1, Math.ceil((Date.parse(login.until) - now.getTime()) / 1000))
      const locked = problem(c, new ProblemError(429, 'account_locked', `This account is locked after too many wrong passwords until ${login.until}; try again in ${Math.ceil(seconds / 60)} min, or ask an administrator to unlock it by setting a new password.`, { lockedUntil: login.until, ...(recordedSeq ? { recordedSeq } : {}) }))
      locked.headers.set('retry-after', String(seconds))
      return locked
    }
    if (login.why === 'expired') {
      const why = login.cause === 'reset' ? 'was set by an administrator' : 'has expired'
      throw new ProblemError(403, 'password_change_required', `The password ${why}: log in again with newPassword to set your own.`, { errors: [{ path: 'json.newPassword', message: `required: the password ${why}` }] })
    }
    if (login.why === 'refused') throw new ProblemError(422, login.code, login.message, { errors: [{ path: 'json.newPassword', message: login.message }] })
    throw new ProblemError(401, 'login_failed', 'The user id or the password is wrong, or the account is inactive.')
  })

  app.openapi(declare({ method: 'post', path: '/api/v1/auth/logout', tag: 'Accounts', summary: 'End this session' }), (c) => {
    const bearer = (c.req.header('authorization') ?? '').replace(/^Bearer\s+/i, '')
    deps.accounts.logout(bearer)
    return c.json({ loggedOut: true }, 200)
  })

  app.openapi(declare({ method: 'get', path: '/api/v1/auth/me', tag: 'Accounts', summary: 'Who the bearer token belongs to' }), (c) => c.json(c.get('principal'), 200))

  app.openapi(declare({ method: 'put', path: '/api/v1/people/{id}/password', tag: 'Accounts', summary: "Set a person's password", params: S.PathId, body: S.Password }), async (c) => {
    guard(c, ['admin'])
    const { id } = valid(c, 'param', S.PathId)
    const { password } = valid(c, 'json', S.Password)
    if (!deps.store.view.person(id)) throw new ProblemError(404, 'not_found', `There is no person '${id}'; define the person first.`)
    const set = await deps.accounts.setPassword(id, password, deps.clock.now())
    if (!set.ok) throw new ProblemError(422, set.code, set.message, { errors: [{ path: 'json.password', message: set.message }] })
    return c.json({ personId: id, passwordSet: true }, 200)
  })

  // 21 CFR 11.300: an account is never deleted, so that its id is never reused and its history stays readable.
  app.openapi(declare({ method: 'post', path: '/api/v1/people/{id}/deactivate', tag: 'Accounts', summary: 'Deactivate a person: no more logins or signatures, their records stay', params: S.PathId, body: Deactivation, response: S.Accepted }), async (c) => {
    guard(c, ['admin'])
    const { id } = valid(c, 'param', S.PathId)
    const { reason } = valid(c, 'json', Deactivation)
    const person = deps.store.view.person(id)
    if (!person) throw new ProblemError(404, 'not_found', `There is no person '${id}'.`)
    if (!person.active) throw new ProblemError(409, 'already_inactive', `${person.name} is already deactivated.`)
    const { seq } = await command(deps, c, (view) => {
      const defined = definePerson(view, { ...person, active: false })
      return defined.ok ? accept([...defined.events, event('PersonDeactivated', `person/${id}`, { personId: id, reason })], null) : defined
    })
    const sessionsEnded = deps.accounts.endSessionsOf(id)
    return c.json({ seq, personId: id, active: false, sessionsEnded }, 200)
  })

  app.openapi(
    declare({ method: 'put', path: '/api/v1/terminals/{id}', tag: 'Accounts', summary: 'Register (or retire, active: false) a terminal; a new one gets its secret (X-Takt-Terminal-Key) in this answer, once', params: S.PathId, body: TerminalBody }),
    (c) => {
      guard(c, ['admin'])
      const { id } = valid(c, 'param', S.PathId)
      const { rotateSecret, ...body } = valid(c, 'json', TerminalBody)
      const { terminal, secret } = deps.accounts.registerTerminal({ id, ...body }, actorOf(c.get('principal')), deps.clock.now(), rotateSecret)
      // The secret is shown this once: only its hash is kept (21 CFR 11.10(h)).
      return c.json({ ...terminal, ...(secret === null ? {} : { secret }) }, 200)
    },
  )

  app.openapi(declare({ method: 'get', path: '/api/v1/terminals', tag: 'Accounts', summary: 'Registered terminals' }), (c) => {
    guard(c, ['admin', 'quality'])
    return c.json({ items: deps.accounts.terminals.list() }, 200)
  })

  app.openapi(declare({ method: 'post', path: '/api/v1/tokens', tag: 'Accounts', summary: 'Create an API token (shown once)', body: S.NewToken, status: 201 }), (c) => {
    guard(c, ['admin'])
    const { name, role } = valid(c, 'json', S.NewToken)
    const id = deps.ids.next()
    const token = deps.accounts.createToken(name, role, deps.clock.now(), id)
    return c.json({ id, name, role, token }, 201)
  })
}
