// The request body limit, decided from the headers when they suffice.
import type { MiddlewareHandler } from 'hono'
import { bodyLimit } from 'hono/body-limit'

/**
 * A body with a Content-Length is judged by it, before a byte is read: asking the request for
 * its body stream, as a general limit must, makes the Node server build a web Request for every
 * request, a large share of a small request's cost. A body sent in chunks is counted as it is
 * read (hono's limit). `onError` throws the answer.
 */
export function requestBodyLimit(maxSize: number, onError: () => never): MiddlewareHandler {
  const counting = bodyLimit({ maxSize, onError })
  return async function limitBody(c, next) {
    if (c.req.header('transfer-encoding') !== undefined) return counting(c, next)
    const length = c.req.header('content-length')
    if (length === undefined) {
      // No length and no chunks: HTTP/1.1 has no body here; anything else (app.request in tests with a body) is counted.
      return c.req.method === 'GET' || c.req.method === 'HEAD' ? next() : counting(c, next)
    }
    if (Number.parseInt(length, 10) > maxSize) onError()
    return next()
  }
}
