// Canonical JSON: one text per value, whatever the key order, so definitions compare and hash the same.
import t from 'tap'
import { canonicalJson, sameDefinition } from '../canonical-json.ts'

t.test('keys are sorted at every depth, arrays keep their order', async (t) => {
  const value = { b: 1, a: { d: [3, { z: 1, y: 2 }], c: null } }
  t.equal(canonicalJson(value), '{"a":{"c":null,"d":[3,{"y":2,"z":1}]},"b":1}')
  t.equal(canonicalJson([{ b: 2, a: 1 }, 'x']), '[{"a":1,"b":2},"x"]')
})

t.test('undefined properties are left out, null is kept', async (t) => {
  t.equal(canonicalJson({ a: 1, b: undefined }), '{"a":1}')
  t.equal(canonicalJson({ a: null }), '{"a":null}')
})

t.test('primitives are plain JSON', async (t) => {
  t.equal(canonicalJson('x'), '"x"')
  t.equal(canonicalJson(1.5), '1.5')
  t.equal(canonicalJson(true), 'true')
  t.equal(canonicalJson(null), 'null')
})

t.test('sameDefinition', async (t) => {
  t.ok(sameDefinition({ id: 'R', ops: [{ seq: 10, name: 'Cut' }] }, { ops: [{ name: 'Cut', seq: 10 }], id: 'R' }), 'key order does not matter')
  t.ok(sameDefinition({ a: 1, b: undefined }, { a: 1 }), 'an undefined property is no property')
  t.notOk(sameDefinition([1, 2], [2, 1]), 'array order matters')
  t.notOk(sameDefinition({ a: 1 }, { a: '1' }), 'types matter')
  t.notOk(sameDefinition({ a: null }, {}), 'null is a value')
  t.notOk(sameDefinition({ a: { b: 1 } }, { a: { b: 2 } }), 'nested values matter')
})
