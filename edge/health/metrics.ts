// GET /metrics: the system health and a few gateway counters in the Prometheus text exposition format (version 0.0.4).
import type { DiskState } from './disk-guard.ts'
import type { SystemSnapshot } from './system-health.ts'

export const metricsContentType = 'text/plain; version=0.0.4; charset=utf-8'

export interface GatewayCounters {
  version: string
  eventSeq: number
  historianWritten: number
  historianDropped: number
  /** PUBACKs that ran ahead of the disk (Historian.ackAhead). */
  historianAckAhead: { batches: number; maxMs: number; lost: number }
}

type Labels = Record<string, string>

/** Label values escape backslash, double quote and line feed (exposition format, "Text format details"). */
function labels(l: Labels | undefined): string {
  if (!l || Object.keys(l).length === 0) return ''
  return `{${Object.entries(l)
    .map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`)
    .join(',')}}`
}

class Exposition {
  readonly lines: string[] = []
  /** A family with its samples; a null value is left out (Prometheus reads an absent series as "unknown"), a family with none is left out whole. */
  family(name: string, type: 'gauge' | 'counter', help: string, samples: Array<[number | null, Labels?]>): void {
    const present = samples.filter((s): s is [number, Labels?] => s[0] !== null && Number.isFinite(s[0]))
    if (present.length === 0) return
    this.lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`)
    for (const [value, l] of present) this.lines.push(`${name}${labels(l)} ${value}`)
  }
}

const diskStates: DiskState[] = ['ok', 'historian-shedding', 'hard-floor']

export function renderMetrics(system: SystemSnapshot, gateway: GatewayCounters): string {
  const e = new Exposition()
  e.family('takt_info', 'gauge', 'The gateway version, always 1.', [[1, { version: gateway.version }]])
  e.family('takt_event_seq', 'gauge', 'Sequence number of the last event in the log.', [[gateway.eventSeq]])
  e.family('takt_historian_samples_written_total', 'counter', 'Raw samples the historian wrote since the start.', [[gateway.historianWritten]])
  e.family('takt_historian_samples_dropped_total', 'counter', 'Raw samples dropped while the disk guard paused raw storage.', [[gateway.historianDropped]])
  e.family('takt_historian_ack_ahead_batches_total', 'counter', 'Historian batches written after a QoS 1 PUBACK for one of their samples had gone out.', [[gateway.historianAckAhead.batches]])
  e.family('takt_historian_ack_ahead_max_ms', 'gauge', 'Longest time from a PUBACK sent ahead of the disk to its sample being synced, since the start, ms.', [[gateway.historianAckAhead.maxMs]])
  e.family('takt_historian_ack_ahead_lost_total', 'counter', 'Samples acknowledged ahead of the disk whose batch could not be written.', [[gateway.historianAckAhead.lost]])
  e.family('takt_cpu_load_percent', 'gauge', 'CPU load over the last sampling interval, percent of all cores.', [[system.cpu.loadPercent]])
  e.family('takt_cpu_cores', 'gauge', 'CPU cores.', [[system.cpu.cores]])
  e.family('takt_load_average_1m', 'gauge', 'One-minute load average.', [[system.cpu.loadAverage1m]])
  e.family('takt_memory_total_bytes', 'gauge', 'Memory installed.', [[system.memory.totalBytes]])
  e.family('takt_memory_available_bytes', 'gauge', 'Memory available to new processes.', [[system.memory.availableBytes]])
  e.family('takt_cpu_temperature_celsius', 'gauge', 'CPU temperature; absent where the machine has no sensor.', [[system.temperature.cpuCelsius]])
  e.family('takt_disk_free_bytes', 'gauge', "Free bytes on the data directory's filesystem.", [[system.disk.freeBytes]])
  e.family('takt_disk_total_bytes', 'gauge', "Size of the data directory's filesystem.", [[system.disk.totalBytes]])
  e.family('takt_disk_historian_floor_bytes', 'gauge', 'Free space below which the historian sheds raw samples.', [[system.disk.historianFloorBytes]])
  e.family('takt_disk_hard_floor_bytes', 'gauge', 'Free space below which as-built writes are refused.', [[system.disk.hardFloorBytes]])
  e.family('takt_disk_guard_state', 'gauge', 'The disk guard state: 1 for the current one.', diskStates.map((s) => [s === system.disk.state ? 1 : 0, { state: s }]))
  e.family('takt_disk_refused_writes_total', 'counter', 'As-built writes refused below the hard floor since the start.', [[system.disk.refusedWrites]])
  const clock = system.clock
  const source = { source: clock.source ?? 'none' }
  e.family('takt_clock_offset_seconds', 'gauge', 'Gateway clock minus the reference; absent without a reference.', [[clock.offsetMs === null ? null : clock.offsetMs / 1000, source]])
  e.family('takt_clock_offset_uncertainty_seconds', 'gauge', 'Half-width of the interval the true clock offset lies in.', [[clock.uncertaintyMs === null ? null : clock.uncertaintyMs / 1000, source]])
  e.family('takt_clock_offset_age_seconds', 'gauge', 'Age of the clock offset estimate.', [[clock.ageMs === null ? null : clock.ageMs / 1000, source]])
  return `${e.lines.join('\n')}\n`
}
