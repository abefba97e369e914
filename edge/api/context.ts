// What every route module receives: the store, the read models, accounts, the clock and ids.
import type { OpenAPIHono } from '@hono/zod-openapi'
import type { Context } from 'hono'
import type { Decision } from '../core/decision.ts'
import type { Clock, Ids } from '../core/ports.ts'
import type { ConnectivityBoard } from '../connectivity/status.ts'
import type { Historian } from '../historian/historian.ts'
import type { LineStore } from '../store/line-store.ts'
import type { LineQueries } from '../store/queries.ts'
import { actorOf, type Accounts, type AuthEnv } from './auth.ts'
import { ProblemError } from './problem.ts'
import type { Decide } from '../store/line-store.ts'

export interface ApiDeps {
  store: LineStore
  queries: LineQueries
  accounts: Accounts
  clock: Clock
  ids: Ids
  historian: Historian
  connectivity: ConnectivityBoard
}

export type Api = OpenAPIHono<AuthEnv>

/** Runs a command as the request's principal; a refusal becomes a problem response (after any record is kept). */
export async function command<R>(deps: ApiDeps, c: Context<AuthEnv>, decide: Decide<R>): Promise<{ result: R; seq: number }> {
  const executed = await deps.store.submit(actorOf(c.get('principal')), decide)
  const seq = executed.recorded.at(-1)?.seq ?? 0
  if (!executed.ok) {
    const error = ProblemError.from(executed.rejection)
    if (seq > 0) error.extra.recordedSeq = seq
    throw error
  }
  return { result: (executed as Extract<Decision<R>, { ok: true }>).result, seq }
}
