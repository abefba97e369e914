// Open pushes of a gateway: a push that found a gap waits for the gateway's others at work, never for one that waits itself, never for another gateway's.
import t from 'tap'
import { OpenPushes } from './push-order.ts'

const settledWithin = async <T>(p: Promise<T>, ms = 50): Promise<{ value: T } | null> => Promise.race([p.then((value) => ({ value })), new Promise<null>((r) => setTimeout(() => r(null), ms))])

t.test('alone, a push does not wait: its gap is real', async (t) => {
  const open = new OpenPushes()
  const a = open.open('gw-a')
  t.equal(await open.othersAtWork(a), false)
  a.done()
  t.equal(open.size, 0)
})

t.test('a push waits for the gateway push still at work and is woken by its answer', async (t) => {
  const open = new OpenPushes()
  const first = open.open('gw-a')
  const second = open.open('gw-a')
  const waiting = open.othersAtWork(second)
  t.equal(await settledWithin(waiting), null, 'still waiting while the other is at work')
  first.done()
  t.same(await settledWithin(waiting), { value: true })
  t.equal(second.waiting, false, 'at work again for its retry')
  t.equal(await open.othersAtWork(second), false, 'with nothing else open, the retry answers the gap')
  second.done()
  t.equal(open.size, 0)
})

t.test('two pushes that both found a gap do not wait for each other', async (t) => {
  const open = new OpenPushes()
  const a = open.open('gw-a')
  const b = open.open('gw-a')
  const aWaits = open.othersAtWork(a)
  t.equal(await settledWithin(aWaits), null)
  t.equal(await open.othersAtWork(b), false, 'the other one waits, so this gap is answered')
  t.same(await settledWithin(aWaits), { value: true }, 'and the waiting one is woken to look again')
  b.done()
  t.equal(await open.othersAtWork(a), false)
  a.done()
})

t.test("another gateway's pushes are not waited for", async (t) => {
  const open = new OpenPushes()
  const other = open.open('gw-b')
  const a = open.open('gw-a')
  t.equal(await open.othersAtWork(a), false)
  a.done()
  other.done()
  a.done()
  t.equal(open.size, 0, 'answering twice changes nothing')
})
