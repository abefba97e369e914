// The push body's fast check accepts exactly what the push schema accepts: every valid body, and none of the invalid ones.
import t from 'tap'
import { acceptPushBody, maxBatchEvents, pushBody } from './ingest.ts'

const h = (c: string) => c.repeat(64)
const event = (seq: number) => ({
  seq,
  id: `0190-${seq}`,
  type: 'MaterialDefined',
  subject: `material/M${seq}`,
  data: '{"id":"M1"}',
  actor: 'tester',
  occurredAt: '2026-12-02T04:00:00.000Z',
  recordedAt: '2026-12-02T04:00:00.000Z',
  prevHash: h('a'),
  hash: h('b'),
})
const body = (events = [event(1), event(2)], epoch: unknown = 1) => ({ epoch, events })

t.test('a valid body is accepted as it is, and the schema agrees', async (t) => {
  for (const b of [body(), body([event(7)], 3), body([{ ...event(1), subject: '', actor: '' }]), body(Array.from({ length: maxBatchEvents }, (_, i) => event(i + 1)))]) {
    t.equal(acceptPushBody(b), b)
    t.ok(pushBody.safeParse(b).success)
  }
})

t.test('every invalid body is left to the schema, which refuses it too', async (t) => {
  const e = event(1)
  const invalid: [string, unknown][] = [
    ['not an object', 'x'],
    ['null', null],
    ['an array', [body()]],
    ['an extra top-level key', { ...body(), more: 1 }],
    ['no epoch', { events: [e] }],
    ['epoch 0', body([e], 0)],
    ['epoch not whole', body([e], 1.5)],
    ['epoch a string', body([e], '1')],
    ['epoch unsafe', body([e], 2 ** 60)],
    ['no events', { epoch: 1, events: [] }],
    ['events not an array', { epoch: 1, events: {} }],
    ['too many events', body(Array.from({ length: maxBatchEvents + 1 }, (_, i) => event(i + 1)))],
    ['an event that is null', body([null as never])],
    ['an event that is an array', body([[] as never])],
    ['an extra event key', body([{ ...e, extra: 1 } as never])],
    ['a missing event key', body([(({ actor: _a, ...rest }) => rest)(e) as never])],
    ['a key replaced by another', body([(({ actor: _a, ...rest }) => ({ ...rest, author: 'x' }))(e) as never])],
    ['seq 0', body([{ ...e, seq: 0 }])],
    ['seq not whole', body([{ ...e, seq: 1.5 }])],
    ['seq a string', body([{ ...e, seq: '1' } as never])],
    ['empty id', body([{ ...e, id: '' }])],
    ['long id', body([{ ...e, id: 'x'.repeat(129) }])],
    ['empty type', body([{ ...e, type: '' }])],
    ['long type', body([{ ...e, type: 'x'.repeat(129) }])],
    ['long subject', body([{ ...e, subject: 'x'.repeat(513) }])],
    ['data an object', body([{ ...e, data: {} } as never])],
    ['long actor', body([{ ...e, actor: 'x'.repeat(257) }])],
    ['empty occurredAt', body([{ ...e, occurredAt: '' }])],
    ['long recordedAt', body([{ ...e, recordedAt: 'x'.repeat(65) }])],
    ['upper-case prevHash', body([{ ...e, prevHash: h('A') }])],
    ['short hash', body([{ ...e, hash: 'b'.repeat(63) }])],
    ['hash a number', body([{ ...e, hash: 1 } as never])],
    ['the second event invalid', body([e, { ...event(2), hash: 'zz' }])],
  ]
  for (const [what, b] of invalid) {
    t.equal(acceptPushBody(b), null, `fast check: ${what}`)
    t.notOk(pushBody.safeParse(b).success, `schema: ${what}`)
  }
})
