// RFC 9457 problem details: one error type for the API, each with a stable code and an HTTP status.
import type { Context } from 'hono'
import type { Rejection } from '../core/rejection.ts'

export interface ProblemBody {
  type: string
  title: string
  status: number
  detail: string
  code: string
  instance?: string
  errors?: Array<{ path: string; message: string }>
  [extension: string]: unknown
}

export class ProblemError extends Error {
  readonly status: number
  readonly code: string
  readonly extra: Record<string, unknown>

  constructor(status: number, code: string, detail: string, extra: Record<string, unknown> = {}) {
    super(detail)
    this.status = status
    this.code = code
    this.extra = extra
  }

  static from(rejection: Rejection): ProblemError {
    return new ProblemError(rejection.status, rejection.code, rejection.message, rejection.details ? { details: rejection.details } : {})
  }
}

const titles: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
  507: 'Insufficient Storage',
}

export function problemBody(status: number, code: string, detail: string, instance: string, extra: Record<string, unknown> = {}): ProblemBody {
  return { type: `urn:takt:problem:${code}`, title: titles[status] ?? 'Error', status, detail, code, instance, ...extra }
}

export function problem(c: Context, error: ProblemError): Response {
  const body = problemBody(error.status, error.code, error.message, c.req.path, error.extra)
  return new Response(JSON.stringify(body), { status: error.status, headers: { 'content-type': 'application/problem+json' } })
}
