// The pure side of signatures and corrections: digests, binding checks, local time, two-person rules, correction decisions.
import t from 'tap'
import { correctAsBuilt, dispositionNonconformance } from '../../edge/core/audit.ts'
import { accept, refuse } from '../../edge/core/decision.ts'
import { event } from '../../edge/core/events.ts'
import { reject } from '../../edge/core/rejection.ts'
import { checkSignature, localTime, performerConflict, personOfActor, recordDigest, signatureEvent, signFirst, type SignatureManifest } from '../../edge/core/signatures.ts'

const record = { seq: 41, type: 'UnitHoldReleased', subject: 'unit/U-1', data: { serial: 'U-1', reason: 'fine' } }
const request = { signer: { id: 'quentin', name: 'Quentin Quality', method: 'password' as const, components: 'both' as const }, meaning: 'approval' as const, reason: null, at: new Date('2026-07-01T10:00:00.000Z'), timeZone: 'Europe/Berlin', signatureId: 'sig-1' }

t.test('the digest covers seq, type, subject and data, and ignores key order', async (t) => {
  const d = recordDigest(record)
  t.match(d, /^[0-9a-f]{64}$/)
  t.equal(recordDigest({ ...record, data: { reason: 'fine', serial: 'U-1' } }), d, 'key order does not matter')
  t.not(recordDigest({ ...record, seq: 42 }), d, 'another seq')
  t.not(recordDigest({ ...record, subject: 'unit/U-2' }), d, 'another subject')
  t.not(recordDigest({ ...record, data: { serial: 'U-1', reason: 'fine.' } }), d, 'other data')
})

t.test('a signature holds for its record only', async (t) => {
  const manifest = signatureEvent(record, request).data as SignatureManifest
  t.same(checkSignature(manifest, record), { ok: true })
  t.match(checkSignature(manifest, { ...record, data: { serial: 'U-1', reason: 'changed' } }), { ok: false, reason: /record hash does not match/ })
  t.match(checkSignature({ ...manifest, signedSeq: 7 }, { ...record, seq: 7 }), { ok: false, reason: /record hash does not match seq 7/ }, 'moved to another seq')
  t.match(checkSignature(manifest, { ...record, type: 'UnitHeld' }), { ok: false, reason: /is a UnitHeld/ })
  t.match(checkSignature(manifest, undefined), { ok: false, reason: /does not exist/ })
})

t.test('the manifest states who, when in UTC and local time, and what it means', async (t) => {
  const e = signatureEvent(record, request)
  t.equal(e.type, 'RecordSigned')
  t.equal(e.subject, 'unit/U-1', 'filed with the record it signs')
  t.match(e.data, { signerId: 'quentin', signerName: 'Quentin Quality', meaning: 'approval', signedAt: '2026-07-01T10:00:00.000Z', localTime: '2026-07-01T12:00:00.000+02:00', timeZone: 'Europe/Berlin' })
  t.equal(localTime(new Date('2026-01-15T23:30:00.250Z'), 'Europe/Berlin'), '2026-01-16T00:30:00.250+01:00', 'winter time, across midnight')
  t.equal(localTime(new Date('2026-01-15T23:30:00Z'), 'America/New_York'), '2026-01-15T18:30:00.000-05:00')
  t.equal(localTime(new Date('2026-01-15T23:30:00Z'), 'Asia/Kolkata'), '2026-01-16T05:00:00.000+05:30', 'half-hour offsets')
  t.equal(localTime(new Date('2026-01-15T23:30:00Z'), 'UTC'), '2026-01-15T23:30:00.000+00:00')
})

t.test('signFirst signs the first event at the seq given, and lets a refusal through', async (t) => {
  const decided = accept([event('OrderClosed', 'order/PO-1', { orderId: 'PO-1' }), event('OrderClosed', 'order/PO-2', { orderId: 'PO-2' })], null)
  const signed = signFirst(decided, 10, request)
  t.ok(signed.ok)
  if (!signed.ok) return
  t.equal(signed.events.length, 3)
  t.match(signed.events[2], { type: 'RecordSigned', subject: 'order/PO-1', data: { signedSeq: 10, signedType: 'OrderClosed', recordHash: recordDigest({ seq: 10, type: 'OrderClosed', subject: 'order/PO-1', data: { orderId: 'PO-1' } }) } })
  const refusal = refuse(reject('order_state', 'no'))
  t.equal(signFirst(refusal, 10, request), refusal)
})

t.test('two-person rule: the performer, however logged, conflicts; someone else does not', async (t) => {
  t.equal(personOfActor('person:olga;terminal=T-1'), 'olga')
  t.equal(personOfActor('token:abc'), null)
  t.ok(performerConflict(['person:olga'], 'olga'))
  t.ok(performerConflict(['person:olga;terminal=T-1'], 'olga'))
  t.ok(performerConflict(['olga'], 'olga'), 'an operator id as runs record it')
  t.notOk(performerConflict(['person:olga', 'token:erp'], 'quentin'))
  t.notOk(performerConflict(['person:olgaX'], 'olga'))
})

t.test('corrections: only as-built values, with a reason and a real change', async (t) => {
  const measured = { seq: 5, id: 'e5', type: 'MeasurementRecorded', subject: 'order/PO-1', data: { value: 5 } }
  const ok = correctAsBuilt(measured, 5, { field: 'value', value: 6, reason: 'typo' })
  t.match(ok, { ok: true, events: [{ type: 'AsBuiltCorrected', subject: 'order/PO-1', data: { correctsSeq: 5, correctsId: 'e5', from: 5, to: 6, reason: 'typo' } }] })
  t.match(correctAsBuilt(measured, 5, { field: 'value', value: 6, reason: ' ' }), { ok: false, rejection: { code: 'definition_invalid' } })
  t.match(correctAsBuilt(measured, 5, { field: 'unit', value: 'x', reason: 'r' }), { ok: false, rejection: { message: /Field 'unit'/ } })
  t.match(correctAsBuilt(measured, 5, { field: 'value', value: 5, reason: 'r' }), { ok: false, rejection: { message: /nothing to correct/ } })
  t.match(correctAsBuilt(measured, 5, { field: 'value', value: Number.NaN, reason: 'r' }), { ok: false })
  t.match(correctAsBuilt({ ...measured, type: 'OrderClosed' }, 5, { field: 'value', value: 6, reason: 'r' }), { ok: false, rejection: { message: /not as-built data/ } })
  t.match(correctAsBuilt(undefined, 5, { field: 'value', value: 6, reason: 'r' }), { ok: false, rejection: { code: 'not_found' } })
})

t.test('a nonconformance is dispositioned once', async (t) => {
  t.match(dispositionNonconformance({ id: 'nc-1', state: 'open' }, 'rework', 'r'), { ok: true, events: [{ type: 'NonconformanceDispositioned', subject: 'nonconformance/nc-1' }] })
  t.match(dispositionNonconformance({ id: 'nc-1', state: 'dispositioned' }, 'rework', 'r'), { ok: false, rejection: { code: 'order_state' } })
  t.match(dispositionNonconformance(undefined, 'rework', 'r'), { ok: false, rejection: { code: 'not_found' } })
})
