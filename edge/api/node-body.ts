// Reads a request body straight from Node's IncomingMessage into hono's body cache, skipping the web-stream Request it would otherwise build.
import type { IncomingMessage } from 'node:http'
import type { MiddlewareHandler } from 'hono'

function readAll(incoming: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk))
    incoming.once('end', () => resolve(chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8')))
    incoming.once('error', reject)
  })
}

/**
 * For a body of known length (the body limit has already checked it), `c.req.json()` and
 * `c.req.text()` then parse this text; a body sent in chunks, and an app run without the Node
 * server (tests calling `app.request`), take hono's own path.
 */
export function nodeBody(): MiddlewareHandler {
  return async function readNodeBody(c, next) {
    const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming
    const method = c.req.method
    if (incoming && (method === 'POST' || method === 'PUT') && Number(c.req.header('content-length')) > 0 && c.req.header('transfer-encoding') === undefined) {
      // hono keeps the pending read in its cache (typed as the value, stored as a promise).
      ;(c.req.bodyCache as { text?: Promise<string> }).text = readAll(incoming)
    }
    await next()
  }
}
