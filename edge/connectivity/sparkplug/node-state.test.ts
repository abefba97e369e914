// The edge node's state file: values of every kind survive a reopen, the backlog keeps its order and its bound.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { EdgeNodeState } from './node-state.ts'

t.test('metrics and backlog survive a reopen; the oldest values go when the bound is passed', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'takt-sparkplug-state-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const file = join(dir, 'nested', 'state.db')
  const first = new EdgeNodeState(file)
  const values = [2n ** 64n - 1n, -1.5, true, false, 'text with d prefix', '', null, Number.NaN]
  const metrics = values.map((value, i) => ({ name: `m${i}`, alias: BigInt(i + 3), datatype: 10, value, timestamp: 1000 + i }))
  t.equal(first.commit(metrics, metrics.slice(0, 3), 5), 0, 'nothing dropped below the bound')
  t.equal(first.commit([], metrics.slice(3), 5), 3, 'three over a bound of five: the three oldest dropped')
  t.equal(first.backlogSize, 5)
  first.close()
  const again = new EdgeNodeState(file)
  t.teardown(() => again.close())
  t.same(again.metrics(), metrics, 'every kind of value, exactly, in alias order')
  t.equal(again.backlogSize, 5, 'the backlog count is read back')
  const rows = again.peek(10)
  t.same(rows.map((r) => r.name), ['m3', 'm4', 'm5', 'm6', 'm7'], 'oldest first')
  again.remove(rows[1]!.id)
  t.same(again.peek(10).map((r) => r.name), ['m5', 'm6', 'm7'], 'removed up to and including the id')
  t.equal(again.backlogSize, 3)
})
