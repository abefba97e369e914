// Login for people, API tokens for integrations, passwords set by an administrator.
import { guard } from '../auth.ts'
import type { Api, ApiDeps } from '../context.ts'
import { ProblemError } from '../problem.ts'
import { declare, valid } from '../route.ts'
import * as S from '../schemas.ts'

export function accountRoutes(app: Api, deps: ApiDeps): void {
  app.openapi(declare({ method: 'post', path: '/api/v1/auth/login', tag: 'Accounts', summary: 'Log in with user id and password; returns a bearer session token', body: S.Login, anonymous: true }), async (c) => {
    const { username, password } = valid(c, 'json', S.Login)
    const session = await deps.accounts.login(username, password, deps.clock.now())
    if (!session) throw new ProblemError(401, 'login_failed', 'The user id or the password is wrong, or the account is inactive.')
    return c.json(session, 200)
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
    await deps.accounts.setPassword(id, password, deps.clock.now())
    return c.json({ personId: id, passwordSet: true }, 200)
  })

  app.openapi(declare({ method: 'post', path: '/api/v1/tokens', tag: 'Accounts', summary: 'Create an API token (shown once)', body: S.NewToken, status: 201 }), (c) => {
    guard(c, ['admin'])
    const { name, role } = valid(c, 'json', S.NewToken)
    const id = deps.ids.next()
    const token = deps.accounts.createToken(name, role, deps.clock.now(), id)
    return c.json({ id, name, role, token }, 201)
  })
}
