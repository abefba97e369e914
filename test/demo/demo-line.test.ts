// `npm start` (takt demo) as a visitor runs it: the whole line in one process tree — orders progress, OEE appears, Ctrl-C stops it all, a second start resumes; a taken port is one clear line.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t, { type Test } from 'tap'
import { demoAdminToken } from '../../edge/demo.ts'
import { demoPorts } from '../../edge/demo/ports.ts'
import { ordersPerDay } from '../../edge/demo/order-book.ts'
import { runTakt } from '../helpers/client.ts'
import { until } from '../helpers/until.ts'

// Two PGlite starts and two OPC UA servers making their keys, on a loaded machine.
t.setTimeout(170_000)

const allPortsFree = Object.fromEntries(Object.values(demoPorts).map((p) => [p.variable, '0']))
const seededOrders = 5

type Demo = ReturnType<typeof runTakt> & { pid: number }

function startDemo(dataDir: string, extra: Record<string, string> = {}): Demo {
  const run = runTakt(['demo'], { ...allPortsFree, TAKT_DATA_DIR: dataDir, TAKT_HTTP_HOST: '127.0.0.1', TAKT_DEMO_SPEED: '40', TAKT_LOG_LEVEL: 'warn', TAKT_ADMIN_TOKEN: '', ...extra })
  return { ...run, pid: run.child.pid! }
}

/** The URLs the banner prints, once it is printed. */
async function bannerOf(demo: Demo): Promise<{ hmi: string; dashboard: string; cloud: string }> {
  let ended = false
  void demo.exited.then(() => (ended = true))
  await until('the demo banner', () => ended || /Ctrl-C stops the demo/.test(demo.stdout()), 90_000)
  if (ended) throw new Error(`takt demo ended before its banner:\n${demo.stdout()}\n${demo.stderr()}`)
  const url = (label: string) => new RegExp(`${label}\\s+(https?://[^\\s/]+)`).exec(demo.stdout())?.[1] ?? ''
  return { hmi: url('HMI'), dashboard: `${url('Dashboard')}/dashboard`, cloud: url('Cloud') }
}

/** Every process below pid (children, their children), from /proc. */
function descendants(pid: number): number[] {
  const parentOf = new Map<number, number>()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      parentOf.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]))
    } catch {
      // the process ended while we looked
    }
  }
  const out: number[] = []
  const walk = (p: number) => {
    for (const [child, parent] of parentOf) {
      if (parent === p) {
        out.push(child)
        walk(child)
      }
    }
  }
  walk(pid)
  return out
}

const api = async (base: string, path: string) => {
  const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${demoAdminToken}` } })
  return { status: res.status, body: (await res.json()) as Record<string, unknown> & { items?: Array<Record<string, unknown>> } }
}
/** Polls every half second: the demo runs on a loaded machine, and each look is a few API calls. */
async function poll(what: string, check: () => Promise<boolean>, limitMs: number): Promise<void> {
  for (const deadline = Date.now() + limitMs; !(await check()); await new Promise((r) => setTimeout(r, 500))) {
    if (Date.now() > deadline) throw new Error(`never reached: ${what}`)
  }
}

/** Stops the demo with SIGINT: exit 0, nothing of it left running, and no error in what it printed. */
async function interrupt(t: Test, demo: Demo): Promise<void> {
  const below = descendants(demo.pid)
  demo.child.kill('SIGINT')
  let timer: NodeJS.Timeout | undefined
  const exit = await Promise.race([demo.exited, new Promise<null>((r) => (timer = setTimeout(() => r(null), 45_000)))])
  clearTimeout(timer)
  if (exit === null) demo.child.kill('SIGKILL')
  t.same(exit, { code: 0, signal: null }, 'SIGINT: the demo stops and exits 0')
  t.match(demo.stdout(), /Demo line stopped\./, 'and says so')
  t.same(below.filter((p) => existsSync(`/proc/${p}`)), [], `no process it started is left (${below.length} seen while it ran)`)
  const lines = `${demo.stdout()}\n${demo.stderr()}`.split('\n')
  const errors = lines.filter((l) => /"level":(50|60)/.test(l) || /^\s+at .+:\d+:\d+\)?$/.test(l) || /^(Uncaught |Unhandled|[A-Za-z]*Error: )/.test(l) || /^takt demo: /.test(l))
  t.same(errors, [], 'no error line and no stack trace in its output')
  if (exit?.code !== 0 || errors.length > 0) t.comment(`the demo's output:\n${demo.stdout().slice(-4000)}\n${demo.stderr().slice(-4000)}`)
}

t.test('npm start: cloud, gateway, machines, orders and crew; progress and OEE; Ctrl-C; a second start resumes', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'takt-demo-'))
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))
  const started = Date.now()
  const first = startDemo(dataDir)
  t.teardown(() => void first.child.kill('SIGKILL'))
  const urls = await bannerOf(first)
  t.comment(`first start: banner after ${Date.now() - started} ms`)
  t.match(first.stdout(), /Takt demo line loaded/, 'the first start loads the line')
  t.match(first.stdout(), /BADGE-ANA.*PIN 2580/, 'the banner gives the operators\' badge and PIN')
  t.match(first.stdout(), new RegExp(`Admin API token \\(gateway and cloud\\): ${demoAdminToken}`), 'and the admin token for the dashboard')
  for (const [what, url] of [['HMI', `${urls.hmi}/`], ['dashboard', urls.dashboard]]) {
    const res = await fetch(url!)
    t.equal(res.status, 200, `the ${what} answers at ${url}`)
    t.match(res.headers.get('content-type'), /text\/html/, `the ${what} is a page`)
    await res.arrayBuffer()
  }
  t.equal((await api(urls.hmi, '/api/v1/orders')).status, 200, 'the demo admin token opens the gateway API')
  t.equal((await fetch(`${urls.hmi}/api/v1/orders`)).status, 401, 'and without it the API stays shut')

  // The day of orders went to the cloud and came down to the gateway over the shape sync.
  await poll('the day of orders on the gateway', async () => (await api(urls.hmi, '/api/v1/orders?limit=1000')).body.items!.length === seededOrders + ordersPerDay, 60_000)
  const orders = (await api(urls.hmi, '/api/v1/orders?limit=1000')).body.items!
  t.ok(orders.filter((o) => String(o.id).startsWith('PO-2')).length === ordersPerDay, `the ${ordersPerDay} orders from the cloud reached the gateway`)
  const centralDefinitions = await api(urls.cloud, '/api/v1/lines/L1/definitions')
  t.equal(centralDefinitions.status, 200)

  // The crew works them: some order's booked quantity grows while we watch (the WIP view, as the HMI shows it).
  const progressNow = async () => {
    const out = new Map<string, number>()
    for (const w of (await api(urls.hmi, '/api/v1/wip')).body.items!) out.set(String(w.orderId), (out.get(String(w.orderId)) ?? 0) + Number(w.done) + Number(w.scrap))
    return out
  }
  const before = await progressNow()
  await poll('an order to progress', async () => [...(await progressNow())].some(([id, n]) => n > (before.get(id) ?? 0)), 60_000)
  t.pass(`an order progressed: its operations booked more parts (${Date.now() - started} ms)`)
  const released = (await api(urls.hmi, '/api/v1/orders?state=in_progress')).body.items!.length
  t.ok(released >= 1, 'the lead released and dispatched orders, and the crew started them')

  // OEE: on the gateway for the press, and centrally in the cloud from the pushed events.
  const from = new Date(started - 3600_000).toISOString()
  await poll('gateway OEE for the press', async () => typeof ((await api(urls.hmi, `/api/v1/oee?workCenterId=WC-PRESS&from=${from}&to=${new Date().toISOString()}`)).body.oee as { oee?: unknown })?.oee === 'number', 45_000)
  const gatewayOee = (await api(urls.hmi, `/api/v1/oee?workCenterId=WC-PRESS&from=${from}&to=${new Date().toISOString()}`)).body.oee as { oee: number; counts: { total: number } }
  t.ok(gatewayOee.oee > 0 && gatewayOee.counts.total > 0, `the press has an OEE from its machine counts (${gatewayOee.oee.toFixed(3)}, ${gatewayOee.counts.total} parts)`)
  const centralOee = async () => ((await api(urls.cloud, '/api/v1/oee')).body.lines ?? []) as Array<{ lineId: string; workCenters: Array<{ workCenterId: string; oee: number | null }> }>
  await poll('central OEE for the line', async () => (await centralOee()).some((l) => l.lineId === 'L1' && l.workCenters.some((w) => typeof w.oee === 'number' && w.oee > 0)), 45_000)
  t.pass('the cloud shows OEE values for the line')
  t.equal((await fetch(`${urls.cloud}/api/v1/oee`)).status, 401, 'the central API needs the admin token')

  t.comment(`first run: OEE seen after ${Date.now() - started} ms`)
  await interrupt(t, first)
  t.comment(`first run stopped after ${Date.now() - started} ms`)
  const count = orders.length

  const second = startDemo(dataDir)
  t.teardown(() => void second.child.kill('SIGKILL'))
  const again = await bannerOf(second)
  t.comment(`second start: banner after ${Date.now() - started} ms`)
  t.match(second.stdout(), /Takt demo line resumed/, 'the second start resumes the same data')
  await poll('the downstream follower to be up to date', async () => ((await api(again.hmi, '/api/v1/connectivity')).body.sync as { downstream?: { state?: string } } | undefined)?.downstream?.state === 'up-to-date', 30_000)
  t.equal((await api(again.hmi, '/api/v1/orders?limit=1000')).body.items!.length, count, 'the same orders: none doubled by the second start')
  t.comment(`second start: orders counted after ${Date.now() - started} ms`)
  await interrupt(t, second)
  t.comment(`second run stopped after ${Date.now() - started} ms`)
})

t.test('a taken port is one line naming the variable to change, and a non-zero exit', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'takt-demo-port-'))
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }))
  const occupied: Server = createServer()
  await new Promise<void>((r) => occupied.listen(0, '127.0.0.1', () => r()))
  t.teardown(() => new Promise<void>((r) => occupied.close(() => r())))
  const port = (occupied.address() as { port: number }).port
  for (const variable of ['TAKT_HTTP_PORT', 'TAKT_CLOUD_PORT', 'TAKT_DEMO_WELD_PORT']) {
    const demo = startDemo(dataDir, { [variable]: String(port) })
    const exit = await demo.exited
    t.equal(exit.code, 2, `${variable} taken: exit code 2`)
    const lines = demo.stderr().trim().split('\n')
    t.equal(lines.length, 1, `${variable} taken: one line`)
    t.match(lines[0], new RegExp(`^takt demo: port ${port} .*already in use; set ${variable} to a free port`), `${variable} taken: it names the port and the variable`)
    t.notMatch(demo.stderr(), /\n\s+at /, 'no stack trace')
    t.notMatch(demo.stdout(), /Takt demo line/, 'and nothing started')
  }
  // Other settings a visitor gets wrong are refused the same way, before anything starts.
  const free = startDemo(dataDir, { TAKT_DEMO_SPEED: 'fast' })
  t.equal((await free.exited).code, 2, 'a speed that is not a number: exit code 2')
  t.match(free.stderr(), /^takt demo: TAKT_DEMO_SPEED: 'fast' is not a speed/, 'naming the variable')
  const same = startDemo(dataDir, { TAKT_HTTP_PORT: '18080', TAKT_CLOUD_PORT: '18080' })
  t.equal((await same.exited).code, 2, 'two variables with one port: exit code 2')
  t.match(same.stderr(), /TAKT_HTTP_PORT and TAKT_CLOUD_PORT are both 18080/, 'naming both')
  t.notOk(existsSync(join(dataDir, 'takt.db')), 'a refused start wrote no gateway database')
})
