// A compact route declaration: one place states method, path, schemas, roles and the success status.
import { createRoute, type z } from '@hono/zod-openapi'
import type { Context } from 'hono'
import { AnyJson, Problem } from './schemas.ts'

type Schema = z.ZodType

export interface RouteSpec {
  method: 'get' | 'post' | 'put' | 'delete'
  path: string
  tag: string
  summary: string
  params?: z.ZodObject
  query?: z.ZodObject
  body?: Schema
  status?: 200 | 201
  /** Response schema for the success status; a generic JSON object when absent. */
  response?: Schema
  anonymous?: boolean
}

const problemResponse = (description: string) => ({ description, content: { 'application/problem+json': { schema: Problem } } })

export function declare(spec: RouteSpec) {
  const request: Record<string, unknown> = {}
  if (spec.params) request.params = spec.params
  if (spec.query) request.query = spec.query
  if (spec.body) request.body = { required: true, content: { 'application/json': { schema: spec.body } } }
  return createRoute({
    method: spec.method,
    path: spec.path,
    tags: [spec.tag],
    summary: spec.summary,
    ...(spec.anonymous ? {} : { security: [{ bearer: [] }] }),
    request,
    responses: {
      [spec.status ?? 200]: { description: 'Success', content: { 'application/json': { schema: spec.response ?? AnyJson } } },
      400: problemResponse('Malformed request'),
      401: problemResponse('No valid credentials'),
      403: problemResponse('Role may not act'),
      404: problemResponse('Unknown id'),
      409: problemResponse('Refused by the state of the line'),
      413: problemResponse('Body too large'),
      422: problemResponse('Invalid content or refused by a rule'),
    },
  } as Parameters<typeof createRoute>[0])
}

/** The validated part of a request; the route's validator has already checked it against `schema`. */
export function valid<T extends Schema>(c: Context, target: 'json' | 'param' | 'query', _schema: T): z.infer<T> {
  return (c.req as unknown as { valid(t: string): unknown }).valid(target) as z.infer<T>
}
