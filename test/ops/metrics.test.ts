// The Prometheus text of GET /metrics from a given snapshot: families, unknown figures left out, label values escaped.
import t from 'tap'
import { renderMetrics } from '../../edge/health/metrics.ts'
import type { SystemSnapshot } from '../../edge/health/system-health.ts'

const snapshot = (over: Partial<SystemSnapshot> = {}): SystemSnapshot => ({
  sampledAt: '2026-12-02T04:00:00.000Z',
  cpu: { loadPercent: 12.5, cores: 4, loadAverage1m: 0.7 },
  memory: { totalBytes: 8_000_000_000, availableBytes: 6_000_000_000, usedPercent: 25 },
  temperature: { cpuCelsius: 48.5, reason: null },
  disk: { state: 'historian-shedding', freeBytes: 500, totalBytes: 1000, historianFloorBytes: 600, hardFloorBytes: 100, since: '', checkedAt: '', refusedWrites: 3, lastError: null },
  clock: { offsetMs: -1500, uncertaintyMs: 40, source: 'cloud-http-date', ageMs: 2000, reason: null },
  lastError: null,
  ...over,
})
const counters = { version: '0.1.0', eventSeq: 42, historianWritten: 1000, historianDropped: 7, historianAckAhead: { batches: 12, maxMs: 4.5, lost: 0 } }

t.test('every figure with its HELP and TYPE; the disk state as one series per state', async (t) => {
  const text = renderMetrics(snapshot(), counters)
  const lines = text.split('\n')
  t.ok(lines.includes('# TYPE takt_cpu_temperature_celsius gauge') && lines.includes('takt_cpu_temperature_celsius 48.5'))
  t.ok(lines.includes('# TYPE takt_disk_refused_writes_total counter') && lines.includes('takt_disk_refused_writes_total 3'))
  t.ok(lines.includes('takt_historian_samples_dropped_total 7'))
  t.ok(lines.includes('takt_historian_ack_ahead_max_ms 4.5') && lines.includes('takt_historian_ack_ahead_lost_total 0'))
  t.ok(lines.includes('takt_event_seq 42'))
  t.same(
    lines.filter((l) => l.startsWith('takt_disk_guard_state{')),
    ['takt_disk_guard_state{state="ok"} 0', 'takt_disk_guard_state{state="historian-shedding"} 1', 'takt_disk_guard_state{state="hard-floor"} 0'],
  )
  t.ok(lines.includes('takt_clock_offset_seconds{source="cloud-http-date"} -1.5'), 'milliseconds become seconds')
  t.ok(lines.includes('takt_clock_offset_uncertainty_seconds{source="cloud-http-date"} 0.04'))
  const help = lines.indexOf('# HELP takt_event_seq Sequence number of the last event in the log.')
  t.equal(lines[help + 1], '# TYPE takt_event_seq gauge', 'HELP, then TYPE, then the sample')
  t.equal(lines[help + 2], 'takt_event_seq 42')
})

t.test('an unknown figure is left out, never written as 0 or NaN', async (t) => {
  const text = renderMetrics(
    snapshot({ temperature: { cpuCelsius: null, reason: 'no sensor' }, clock: { offsetMs: null, uncertaintyMs: null, source: null, ageMs: null, reason: 'no reference' }, cpu: { loadPercent: Number.NaN, cores: 2, loadAverage1m: null } }),
    counters,
  )
  t.notOk(text.includes('takt_cpu_temperature_celsius'), 'no temperature family at all')
  t.notOk(text.includes('takt_clock_offset'), 'no clock family at all')
  t.notOk(text.includes('takt_cpu_load_percent'), 'a NaN load is left out')
  t.notOk(/NaN|null|undefined/.test(text))
  t.ok(text.includes('takt_cpu_cores 2'), 'the known figures stay')
})

t.test('label values are escaped', async (t) => {
  const text = renderMetrics(snapshot(), { ...counters, version: 'a"b\\c\nd' })
  t.ok(text.includes('takt_info{version="a\\"b\\\\c\\nd"} 1'), 'quote, backslash and line feed escaped')
})
