// Wall time ↔ instant in IANA zones: offsets, the spring-forward gap, the fall-back overlap, and the whole-minute assumption.
import t from 'tap'
import { addDays, intlOffsetAt, isTimeZone, isoWeekday, localAt, offsetAt, parseDate, parseTime, wallTimeToInstant } from '../zone.ts'
import { random } from './generator.ts'

const iso = (ms: number) => new Date(ms).toISOString()
const H = 3_600_000

t.test('offsets either side of the 2026 changes', async (t) => {
  t.equal(offsetAt('Europe/Berlin', Date.parse('2026-03-29T00:59:59Z')), 1 * H, 'CET before 01:00 UTC')
  t.equal(offsetAt('Europe/Berlin', Date.parse('2026-03-29T01:00:00Z')), 2 * H, 'CEST from 01:00 UTC')
  t.equal(offsetAt('Europe/Berlin', Date.parse('2026-10-25T00:59:59Z')), 2 * H)
  t.equal(offsetAt('Europe/Berlin', Date.parse('2026-10-25T01:00:00Z')), 1 * H)
  t.equal(offsetAt('America/New_York', Date.parse('2026-03-08T06:59:59Z')), -5 * H)
  t.equal(offsetAt('America/New_York', Date.parse('2026-03-08T07:00:00Z')), -4 * H)
  t.equal(offsetAt('America/New_York', Date.parse('2026-11-01T05:59:59Z')), -4 * H)
  t.equal(offsetAt('America/New_York', Date.parse('2026-11-01T06:00:00Z')), -5 * H)
  t.equal(offsetAt('UTC', Date.parse('2026-06-01T12:00:00.123Z')), 0, 'milliseconds do not leak into the offset')
  t.equal(offsetAt('Asia/Kathmandu', Date.parse('2026-06-01T12:00:00Z')), 5.75 * H)
})

t.test('ordinary wall times', async (t) => {
  t.equal(iso(wallTimeToInstant('Europe/Berlin', '2026-01-15', 6 * 60)), '2026-01-15T05:00:00.000Z', 'winter, CET')
  t.equal(iso(wallTimeToInstant('Europe/Berlin', '2026-07-15', 6 * 60)), '2026-07-15T04:00:00.000Z', 'summer, CEST')
  t.equal(iso(wallTimeToInstant('America/New_York', '2026-07-15', 22 * 60)), '2026-07-16T02:00:00.000Z')
  t.equal(iso(wallTimeToInstant('Europe/Berlin', '2026-12-31', 24 * 60 + 6 * 60)), '2027-01-01T05:00:00.000Z', 'minutes past 24 h run into the next day and year')
})

t.test('spring forward: a wall time that does not exist moves forward by the gap (RFC 5545 3.3.5)', async (t) => {
  t.equal(iso(wallTimeToInstant('Europe/Berlin', '2026-03-29', 2 * 60 + 30)), '2026-03-29T01:30:00.000Z', '02:30 is 03:30 CEST')
  t.equal(iso(wallTimeToInstant('Europe/Berlin', '2026-03-29', 2 * 60)), '2026-03-29T01:00:00.000Z', '02:00 is 03:00 CEST')
  t.equal(iso(wallTimeToInstant('Europe/Berlin', '2026-03-29', 1 * 60 + 59)), '2026-03-29T00:59:00.000Z', '01:59 still exists, CET')
  t.equal(iso(wallTimeToInstant('Europe/Berlin', '2026-03-29', 3 * 60)), '2026-03-29T01:00:00.000Z', '03:00 exists, CEST')
  t.equal(iso(wallTimeToInstant('America/New_York', '2026-03-08', 2 * 60 + 30)), '2026-03-08T07:30:00.000Z', '02:30 is 03:30 EDT')
})

t.test('fall back: a wall time that occurs twice is its first occurrence (RFC 5545 3.3.5)', async (t) => {
  t.equal(iso(wallTimeToInstant('Europe/Berlin', '2026-10-25', 2 * 60 + 30)), '2026-10-25T00:30:00.000Z', '02:30 CEST, not CET')
  t.equal(iso(wallTimeToInstant('Europe/Berlin', '2026-10-25', 2 * 60)), '2026-10-25T00:00:00.000Z')
  t.equal(iso(wallTimeToInstant('Europe/Berlin', '2026-10-25', 3 * 60)), '2026-10-25T02:00:00.000Z', '03:00 only once, CET')
  t.equal(iso(wallTimeToInstant('America/New_York', '2026-11-01', 60 + 30)), '2026-11-01T05:30:00.000Z', '01:30 EDT, not EST')
  t.equal(iso(wallTimeToInstant('America/New_York', '2026-11-01', 2 * 60)), '2026-11-01T07:00:00.000Z', '02:00 only once, EST')
})

t.test('Lord Howe Island moves its clocks by half an hour', async (t) => {
  // Australia/Lord_Howe: +10:30 standard, +11:00 summer; summer ends 2026-04-05 at 02:00 local.
  t.equal(iso(wallTimeToInstant('Australia/Lord_Howe', '2026-04-05', 60 + 45)), '2026-04-04T14:45:00.000Z', '01:45 occurs twice: the first, +11:00')
  t.equal(wallTimeToInstant('Australia/Lord_Howe', '2026-04-05', 3 * 60) - wallTimeToInstant('Australia/Lord_Howe', '2026-04-05', 0), 3.5 * H, 'that night 00:00–03:00 lasts 3.5 h')
})

t.test('local date and time of an instant', async (t) => {
  t.same(localAt('Europe/Berlin', Date.parse('2026-10-24T22:30:00Z')), { date: '2026-10-25', minuteOfDay: 30, offsetMs: 2 * H })
  t.same(localAt('America/New_York', Date.parse('2026-01-01T03:00:00Z')), { date: '2025-12-31', minuteOfDay: 22 * 60, offsetMs: -5 * H })
})

t.test('dates and times as text', async (t) => {
  t.same(parseDate('2028-02-29'), { year: 2028, month: 2, day: 29 }, 'a leap day')
  t.equal(parseDate('2026-02-29'), undefined, 'not a leap year')
  t.equal(parseDate('2026-13-01'), undefined)
  t.equal(parseDate('26-01-01'), undefined)
  t.equal(parseTime('00:00'), 0)
  t.equal(parseTime('23:59'), 1439)
  t.equal(parseTime('24:00'), undefined, '24:00 is written 00:00')
  t.equal(parseTime('7:00'), undefined, 'two digits')
  t.equal(parseTime('07:60'), undefined)
  t.equal(addDays('2026-12-31', 1), '2027-01-01')
  t.equal(addDays('2026-03-01', -1), '2026-02-28')
  t.equal(isoWeekday('2026-03-29'), 7, 'a Sunday')
  t.equal(isoWeekday('2026-03-30'), 1, 'a Monday')
  t.throws(() => addDays('2026-02-30', 1), RangeError)
})

t.test('time zones Intl knows, and those it does not', async (t) => {
  t.ok(isTimeZone('Europe/Berlin'))
  t.ok(isTimeZone('UTC'))
  t.notOk(isTimeZone('Europe/Atlantis'))
  t.notOk(isTimeZone(''))
})

t.test('the whole-minute assumption behind minute buckets', async (t) => {
  // Every zone's offset is a whole number of minutes on 1 January and 1 July of 1975–2040.
  const odd: string[] = []
  for (const zone of Intl.supportedValuesOf('timeZone')) {
    for (let year = 1975; year <= 2040; year += 1) {
      for (const month of [0, 6]) {
        if (intlOffsetAt(zone, Date.UTC(year, month, 1)) % 60_000 !== 0) odd.push(`${zone} ${year}`)
      }
    }
  }
  t.same(odd, [], 'no zone has a sub-minute offset since 1975')
  // …but it does not hold further back: Liberia kept −0:44:30 until 1972, so its shifts started at :30 s.
  t.equal(offsetAt('Africa/Monrovia', Date.UTC(1971, 0, 1)), -(44 * 60 + 30) * 1000)
  t.equal(iso(wallTimeToInstant('Africa/Monrovia', '1971-01-04', 6 * 60)), '1971-01-04T06:44:30.000Z')
})

t.test('the offset table agrees with Intl at every instant tried', async (t) => {
  const r = random(42)
  // Zones with DST, half-hour DST, DST that ended (Brazil, Iran), Ramadan breaks (Morocco), a sub-minute offset (Liberia 1971).
  const zones = ['Europe/Berlin', 'America/New_York', 'Australia/Lord_Howe', 'America/Sao_Paulo', 'Asia/Tehran', 'Africa/Casablanca', 'Pacific/Chatham', 'Africa/Monrovia']
  const years = [1971, 1972, 1996, 2011, 2018, 2019, 2022, 2026, 2027, 2037]
  const wrong: string[] = []
  for (let i = 0; i < 3000; i++) {
    const zone = r.pick(zones)
    const ms = Date.UTC(r.pick(years), 0, 1) + Math.floor(r.next() * 365 * 86_400_000)
    if (offsetAt(zone, ms) !== intlOffsetAt(zone, ms)) wrong.push(`${zone} ${iso(ms)}`)
  }
  // Right at the changes: a second before and at each 2026 change in Berlin and New York.
  for (const [zone, at] of [['Europe/Berlin', '2026-03-29T01:00:00Z'], ['Europe/Berlin', '2026-10-25T01:00:00Z'], ['America/New_York', '2026-03-08T07:00:00Z'], ['America/New_York', '2026-11-01T06:00:00Z']] as const) {
    for (const ms of [Date.parse(at) - 1, Date.parse(at)]) if (offsetAt(zone, ms) !== intlOffsetAt(zone, ms)) wrong.push(`${zone} ${iso(ms)}`)
  }
  t.same(wrong, [])
})
