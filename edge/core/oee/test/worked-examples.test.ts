// Published OEE worked examples, rebuilt as a calendar, a state timeline and counts, reproduced to the digit.
import t from 'tap'
import { computeOee } from '../oee.ts'
import { formatPercent } from '../result.ts'
import { at, count, dayInput, MIN, oneShift, state } from './fixture.ts'

t.test('oee.com, "Calculating OEE": 8-hour shift, 60 minutes of breaks, 47 minutes down, 1 s ideal cycle', async (t) => {
  // Shift 06:00–14:00, two 15-minute breaks and a 30-minute meal; 19,271 widgets, 423 rejected.
  const input = dayInput({
    calendar: oneShift('06:00', '14:00', [{ start: '08:00', end: '08:15' }, { start: '10:00', end: '10:30' }, { start: '12:00', end: '12:15' }]),
    changes: [state('06:00', 'running'), state('09:00', 'down', 'failure.mechanical'), state('09:47', 'running')],
    counts: [count('07:00', 5000, 100, 1), count('11:30', 6000, 200, 1), count('13:59', 7848, 123, 1)],
    until: '14:00',
  })
  const r = computeOee(input)
  t.equal(r.plannedMs, 420 * MIN, 'planned production time: 480 − 60 = 420 minutes')
  t.equal(r.runMs, 373 * MIN, 'run time: 420 − 47 = 373 minutes')
  t.same(r.counts, { total: 19_271, good: 18_848, reject: 423 })
  t.equal(r.availability, 373 / 420)
  t.equal(r.performance, 19_271 / (373 * 60))
  t.equal(r.quality, 18_848 / 19_271, 'one product: exactly good / total')
  t.equal(r.oee, 18_848 / (420 * 60), 'OEE = fully productive time / planned production time')
  t.same([formatPercent(r.availability, 2), formatPercent(r.performance, 2), formatPercent(r.quality, 2), formatPercent(r.oee, 2)], ['88.81 %', '86.11 %', '97.80 %', '74.79 %'], 'as published')
  t.equal(r.fullyProductiveMs, 18_848_000, 'fully productive time 314.13 minutes')
  t.equal((r.fullyProductiveMs! / MIN).toFixed(2), '314.13')
  t.equal(r.performanceOver100, false)
  t.same(r.losses.availability.byReason.map((l) => [l.code, l.ms / MIN, l.stops, l.loss]), [['failure.mechanical', 47, 1, 'breakdown']])
  t.equal(r.losses.performance.ms, (22_380 - 19_271) * 1000, 'speed loss: run time less ideal time')
  t.equal(r.losses.quality.ms, 423_000, 'quality loss: 423 rejects × 1 s')
  t.equal(r.losses.planned.ms, 0)
})

t.test('simple-oee.com, "How to calculate OEE": 480 planned minutes, 80 stopped, 19,200 made, 18,816 good', async (t) => {
  // "At the ideal cycle time the line could make 24,000 units in 400 minutes": 1 s a unit.
  const input = dayInput({
    calendar: oneShift('06:00', '14:00'),
    changes: [state('06:00', 'running'), state('08:00', 'down', 'flow.starved'), state('08:50', 'running'), state('12:00', 'setup', 'setup.changeover'), state('12:30', 'running')],
    counts: [count('09:00', 9000, 200, 1), count('13:00', 9816, 184, 1)],
    until: '14:00',
  })
  const r = computeOee(input)
  t.same([formatPercent(r.availability), formatPercent(r.performance), formatPercent(r.quality), formatPercent(r.oee)], ['83.3 %', '80.0 %', '98.0 %', '65.3 %'])
  t.equal(r.availability, 400 / 480)
  t.equal(r.performance, 0.8)
  t.equal(r.quality, 0.98)
  t.same(r.losses.availability.byLoss, { breakdown: 50 * MIN, setup: 30 * MIN, no_data: 0 }, 'the 80 minutes: an unplanned stop and a changeover')
})

t.test('TPM: A Route to World-Class Performance, Miller 201 on a Tuesday: 910 minutes, 115 unplanned, 12 changeover, 3-minute cycle', async (t) => {
  // availability = 783 / 910; performance = completed cycles / planned cycles = 203 / (783 / 3).
  const input = dayInput({
    calendar: oneShift('06:00', '21:10'),
    changes: [
      state('06:00', 'running'),
      state('08:00', 'down', 'failure.tooling'),
      state('09:00', 'running'),
      state('13:00', 'down', 'failure.electrical'),
      state('13:55', 'running'),
      state('17:00', 'setup', 'setup.changeover'),
      state('17:12', 'running'),
    ],
    counts: [count('12:00', 100, 0, 180), count('21:00', 103, 0, 180)],
    until: '21:10',
  })
  const r = computeOee(input)
  t.equal(r.plannedMs, 910 * MIN)
  t.equal(r.runMs, 783 * MIN, 'uptime = 910 − 127')
  t.equal(r.availability, 783 / 910)
  t.equal(r.performance, 203 / 261)
  t.equal(formatPercent(r.availability), '86.0 %')
  t.same(r.losses.availability.byLoss, { breakdown: 115 * MIN, setup: 12 * MIN, no_data: 0 })
  t.same(r.losses.availability.byReason.map((l) => [l.code, l.ms / MIN]), [['failure.tooling', 60], ['failure.electrical', 55], ['setup.changeover', 12]])
  t.equal(at('21:10') - at('06:00'), 910 * MIN)
})
