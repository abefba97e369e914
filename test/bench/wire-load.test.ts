// The benchmarks' lean HTTP/1.1 load client against a real node:http server: answers read by length and by chunks, failures counted, none lost.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import t, { type Test } from 'tap'
import { runClosedLoop, runOpenLoop, type WireTarget } from '../../bench/lib/wire-load.ts'

const body = JSON.stringify({ good: 1 })

/** /ok/N answers 200 with a length, /chunked/N 201 in chunks, /bad/N 409, /drop/N closes the socket without an answer. */
async function server(t: Test): Promise<{ url: string; seen: string[] }> {
  const seen: string[] = []
  const srv: Server = createServer((req, res) => {
    let got = ''
    req.setEncoding('utf8').on('data', (c: string) => (got += c))
    req.on('end', () => {
      seen.push(`${req.method} ${req.url} ${req.headers.authorization} ${got}`)
      const kind = req.url!.split('/')[1]
      if (kind === 'ok') res.writeHead(200, { 'content-type': 'application/json', 'content-length': 11 }).end('{"ok":true}')
      else if (kind === 'chunked') {
        res.writeHead(201, { 'content-type': 'application/json' })
        res.write('{"part":')
        setTimeout(() => res.end('1}'), 2)
      } else if (kind === 'bad') res.writeHead(409, { 'content-length': 0 }).end()
      else req.socket.destroy()
    })
  })
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => srv.close(() => resolve())))
  return { url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`, seen }
}

const paths = (kind: string, n: number) => Array.from({ length: n }, (_, i) => `/${kind}/${i}`)

t.test('a closed loop sends every path once, with the token and body, and counts each answer', async (t) => {
  const { url, seen } = await server(t)
  const target: WireTarget = { url, token: 'tok-1', body }
  const all = [...paths('ok', 20), ...paths('chunked', 10), ...paths('bad', 5)]
  const r = await runClosedLoop(target, all, 4, 30)
  t.equal(r.ok, 30, 'length-delimited and chunked 2xx answers are read to their end')
  t.equal(r.failed, 5)
  t.same(r.statusCodes, { 200: 20, 201: 10, 409: 5 })
  t.equal(r.latencies.length, 30, 'a latency for every 2xx answer only')
  t.equal(r.notSent, 0)
  t.same(seen.map((s) => s.split(' ')[1]).sort(), all.slice().sort(), 'each path reached the server exactly once')
  t.ok(seen.every((s) => s.endsWith(`Bearer tok-1 ${body}`)), 'every request carried the token and the whole body')
})

t.test('a connection dropped without an answer is a failure, and the loop goes on with a new one', async (t) => {
  const { url } = await server(t)
  const r = await runClosedLoop({ url, token: 't', body }, [...paths('ok', 3), '/drop/0', ...paths('ok', 3)], 1, 30)
  t.equal(r.ok, 6)
  t.equal(r.failed, 1)
  t.equal(r.statusCodes['0'], 1, 'no answer is counted as status 0')
})

t.test('an open loop paces its requests and waits for every answer', async (t) => {
  const { url, seen } = await server(t)
  const r = await runOpenLoop({ url, token: 't', body }, paths('chunked', 50), 500, 0.1, 500)
  t.equal(r.ok, 50, 'rate × seconds requests, all answered')
  t.equal(seen.length, 50)
  t.ok(r.seconds >= 0.09, `the 50 requests were spread over about 0.1 s (${r.seconds.toFixed(3)} s)`)
  const few = await runOpenLoop({ url, token: 't', body }, paths('ok', 5), 500, 1, 500)
  t.equal(few.ok, 5, 'a pool shorter than rate × seconds sends what it has')
})
