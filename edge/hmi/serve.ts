// Serves the HMI page from local files, as they are (no build step, no CDN): edge/hmi/public at /hmi/, its page at /, uPlot from node_modules.
import { createHash } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, extname, join, relative, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Env, Hono } from 'hono'
import { problemBody } from '../api/problem.ts'

const publicDir = join(dirname(fileURLToPath(import.meta.url)), 'public')
const require = createRequire(import.meta.url)

/** Files the page loads from node_modules, under /hmi/vendor/. */
const vendored: Record<string, string> = {
  'uPlot.esm.js': require.resolve('uplot/dist/uPlot.esm.js'),
  'uPlot.min.css': require.resolve('uplot/dist/uPlot.min.css'),
}

const types: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
}

// Everything from the gateway itself: no inline script or style, no other origin, no framing (clickjacking on a terminal).
const contentSecurityPolicy = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ')

interface Asset {
  body: Uint8Array
  type: string
  etag: string
}

function asset(file: string): Asset {
  const body = readFileSync(file)
  const type = types[extname(file)] ?? 'application/octet-stream'
  return { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` }
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? walk(join(dir, d.name)) : [join(dir, d.name)]))
}

/** Every file the page may load, by URL path; read once at start, so no request can name a path outside them. */
export function hmiFiles(): Map<string, Asset> {
  const files = new Map<string, Asset>()
  for (const file of walk(publicDir)) {
    if (!(extname(file) in types)) continue
    files.set(`/hmi/${relative(publicDir, file).split(sep).join('/')}`, asset(file))
  }
  for (const [name, file] of Object.entries(vendored)) files.set(`/hmi/vendor/${name}`, asset(file))
  const index = files.get('/hmi/index.html')
  if (index) files.set('/', index)
  return files
}

/** What needs no token: reading the page and its assets, which hold no data; every data call carries the session token. */
export function isHmiAsset(method: string, path: string): boolean {
  return (method === 'GET' || method === 'HEAD') && (path === '/' || path.startsWith('/hmi/'))
}

export function hmiAssets<E extends Env>(app: Hono<E>): void {
  const files = hmiFiles()
  app.get('/', (c) => serveAsset(c.req.raw, files.get('/')))
  app.get('/hmi/*', (c) => serveAsset(c.req.raw, files.get(c.req.path)))
}

function serveAsset(request: Request, found: Asset | undefined): Response {
  const headers = new Headers({ 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer', 'cache-control': 'no-cache' })
  if (!found) {
    headers.set('content-type', 'application/problem+json')
    const path = new URL(request.url).pathname
    return new Response(JSON.stringify(problemBody(404, 'route_not_found', `There is no HMI file ${path}.`, path)), { status: 404, headers })
  }
  headers.set('etag', found.etag)
  if (found.type.startsWith('text/html')) {
    headers.set('content-security-policy', contentSecurityPolicy)
    headers.set('x-frame-options', 'DENY')
  }
  // no-cache with an ETag: a terminal revalidates each file (a 304 is a few bytes) and so picks up a new gateway version at once.
  if (request.headers.get('if-none-match') === found.etag) return new Response(null, { status: 304, headers })
  headers.set('content-type', found.type)
  return new Response(found.body, { status: 200, headers })
}
