// The HMI's files: served without a token but nothing else is, strict headers, no other origin anywhere, and every text key in English and German.
import t from 'tap'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { repoRoot } from '../helpers/client.ts'
import { hmiApp } from './helpers/hmi-gateway.ts'

const publicDir = join(repoRoot, 'edge', 'hmi', 'public')
const walk = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((d) => (d.isDirectory() ? walk(join(dir, d.name)) : [join(dir, d.name)]))

t.test('the page and its assets need no token; the data does', async (t) => {
  const app = await hmiApp({ seed: false })
  t.teardown(app.close)
  const page = await app.call('GET', '/', undefined, '')
  t.equal(page.status, 200)
  t.match(page.headers.get('content-type'), /^text\/html/)
  t.match(page.body.text, /<script type="module" src="\/hmi\/js\/main.js">/)
  const csp = page.headers.get('content-security-policy') ?? ''
  t.match(csp, /default-src 'self'/)
  t.match(csp, /script-src 'self'(;|$)/, 'no inline script')
  t.match(csp, /frame-ancestors 'none'/)
  t.equal(page.headers.get('x-content-type-options'), 'nosniff')
  t.equal(page.headers.get('x-frame-options'), 'DENY')

  for (const [path, type] of [['/hmi/js/main.js', /^text\/javascript/], ['/hmi/hmi.css', /^text\/css/], ['/hmi/i18n/de.json', /^application\/json/], ['/hmi/vendor/uPlot.esm.js', /^text\/javascript/], ['/hmi/vendor/uPlot.min.css', /^text\/css/], ['/hmi/icon.svg', /^image\/svg\+xml/]] as const) {
    const r = await app.call('GET', path, undefined, '')
    t.equal(r.status, 200, path)
    t.match(r.headers.get('content-type'), type, path)
  }
  const uplot = await app.call('GET', '/hmi/vendor/uPlot.esm.js', undefined, '')
  t.match(uplot.body.text, /export \{ uPlot as default \}/, 'uPlot from node_modules, as it is')

  const missing = await app.call('GET', '/hmi/js/nothing.js', undefined, '')
  t.equal(missing.status, 404)
  t.equal(missing.body.code, 'route_not_found')
  t.equal((await app.call('GET', '/hmi/..%2f..%2fpackage.json', undefined, '')).status, 404, 'no path outside the HMI files')
  t.equal((await app.call('GET', '/hmi/js/..%5c..%5c..%5cpackage.json', undefined, '')).status, 404, 'nor with backslashes')
  for (const dots of ['/hmi/../../package.json', '/hmi/%2e%2e/%2e%2e/package.json']) {
    t.equal((await app.call('GET', dots, undefined, '')).status, 401, `${dots} is normalized out of /hmi/ and meets authentication`)
  }
  t.equal((await app.call('GET', '/api/v1/hmi/andon', undefined, '')).status, 401, 'data needs a token')
  t.equal((await app.call('POST', '/hmi/js/main.js', undefined, '')).status, 401, 'only reading is open')
  t.equal((await app.call('HEAD', '/hmi/js/main.js', undefined, '')).status, 200)

  const etag = (await app.call('GET', '/hmi/js/main.js', undefined, '')).headers.get('etag')
  t.match(etag, /^"[\w-]{22}"$/)
  const again = await app.call('GET', '/hmi/js/main.js', undefined, '', { 'if-none-match': etag! })
  t.equal(again.status, 304, 'a terminal revalidates for a few bytes')
  t.equal(again.headers.get('cache-control'), 'no-cache')
})

t.test('no file of the page names another origin; every import is local', async (t) => {
  const files = walk(publicDir)
  t.ok(files.length > 10)
  for (const file of files) {
    const text = readFileSync(file, 'utf8')
    // An SVG's namespace is a name, not a request.
    const urls = [...text.matchAll(/https?:\/\/[^\s'")]+/g)].map((m) => m[0]).filter((u) => u !== 'http://www.w3.org/2000/svg')
    t.same(urls, [], `${file.slice(publicDir.length)} loads nothing from elsewhere`)
    if (file.endsWith('.js')) {
      for (const m of text.matchAll(/^import .* from '([^']+)'/gm)) t.match(m[1], /^(\.{1,2}\/|\/hmi\/)/, `${file.slice(publicDir.length)} imports ${m[1]} from the gateway`)
    }
  }
  const uplot = readFileSync(join(repoRoot, 'node_modules', 'uplot', 'dist', 'uPlot.esm.js'), 'utf8')
  t.notMatch(uplot, /^import /m, 'uPlot needs nothing more')
  t.notMatch(uplot, /fonts\.googleapis|@import url/, 'and loads no font')
})

t.test('the page preloads every module the login and the terminal import, so none waits for its parent', async (t) => {
  const html = readFileSync(join(publicDir, 'index.html'), 'utf8')
  const preloaded = new Set([...html.matchAll(/<link rel="modulepreload" href="([^"]+)">/g)].map((m) => m[1]!))
  const wanted = new Set<string>()
  const visit = (url: string) => {
    if (wanted.has(url)) return
    wanted.add(url)
    const text = readFileSync(join(publicDir, url.replace(/^\/hmi\//, '')), 'utf8')
    for (const m of text.matchAll(/^import .* from '(\.{1,2}\/[^']+)'/gm)) visit(new URL(m[1]!, `http://gateway${url}`).pathname)
  }
  visit('/hmi/js/main.js')
  wanted.delete('/hmi/js/main.js')
  t.ok(wanted.has('/hmi/js/views/terminal-run.js') && wanted.has('/hmi/js/views/login.js'), 'the walk reaches the views main.js imports')
  t.same([...wanted].filter((u) => !preloaded.has(u)).sort(), [], 'each static import is preloaded')
  t.same([...preloaded].filter((u) => !wanted.has(u)).sort(), [], 'and nothing the terminal does not need')
})

t.test('every text the page uses exists in English and in German', async (t) => {
  const en = JSON.parse(readFileSync(join(publicDir, 'i18n', 'en.json'), 'utf8')) as Record<string, string>
  const de = JSON.parse(readFileSync(join(publicDir, 'i18n', 'de.json'), 'utf8')) as Record<string, string>
  t.same(Object.keys(de).sort(), Object.keys(en).sort(), 'the same keys in both files')
  for (const [key, text] of Object.entries(en)) {
    const vars = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort()
    t.same(vars(de[key] ?? ''), vars(text), `${key}: the same placeholders`)
  }
  const used = new Set<string>()
  for (const file of walk(publicDir).filter((f) => f.endsWith('.js') || f.endsWith('.html'))) {
    const text = readFileSync(file, 'utf8')
    for (const m of text.matchAll(/\bt\('([\w.]+)'/g)) used.add(m[1]!)
    for (const m of text.matchAll(/data-i18n="([\w.]+)"/g)) used.add(m[1]!)
  }
  t.ok(used.size > 150, `${used.size} keys used`)
  t.same([...used].filter((k) => !(k in en)), [], 'no key is missing')
})
