// The telemetry benchmark's figures and notes, from what its runs measured.
import type { TelemetryOptions } from '../telemetry.ts'
import type { BenchResult } from './figures.ts'
import type { WireResult } from './wire-load.ts'
import type { CpuTime } from './proc-stats.ts'
import { ms, summarize } from './stats.ts'
import type { PublisherReport } from './telemetry-publisher.ts'

/** One timed run of the publisher into a target, first publication to last sample stored (or relayed). */
export interface Throughput {
  samples: number
  seconds: number
  perSecond: number
  publisher: PublisherReport
  /** CPU of the target's processes during the run, and RSS of its main one sampled every 100 ms. */
  cpu: CpuTime
  rssKb: number[]
}

export interface CompletionCost {
  quiet: WireResult[]
  loaded: WireResult[]
  telemetry: PublisherReport[]
  /** The gateway's CPU time over each segment, all threads. */
  cpu: { quiet: CpuTime[]; loaded: CpuTime[] }
}

/** The gateway's CPU over a kind of segment, in % of one core. */
const segmentCpu = (cpu: CpuTime[], runs: WireResult[]) => (100 * cpu.reduce((n, t) => n + t.user + t.system, 0)) / runs.reduce((n, r) => n + r.seconds, 0)

/** The gateway's PUBACKs sent ahead of the disk over all its runs (GET /metrics, takt_historian_ack_ahead_*). */
export interface AckAheadFigures {
  batches: number
  maxMs: number
  lost: number
}

export interface Measured {
  o: TelemetryOptions
  rounds: Map<string, { warmup: Throughput; runs: Throughput[] }>
  cost: CompletionCost
  /** Rows in the gateway's historian after its last run. */
  stored: number
  ackAhead: AckAheadFigures
  mosquittoVersion: string
  nodeRed: string
}

const cpuSeconds = (t: Throughput) => t.cpu.user + t.cpu.system
const cpuShare = (t: Throughput) => (100 * cpuSeconds(t)) / t.seconds
const cpuPerSample = (runs: Throughput[]) => (runs.reduce((n, t) => n + cpuSeconds(t), 0) / runs.reduce((n, t) => n + t.samples, 0)) * 1e6
/** kB as /proc reports them (KiB) to MB (10^6 bytes), the unit of the memory target. */
const mb = (kb: number) => (kb * 1024) / 1e6
const mean = (values: number[]) => values.reduce((s, v) => s + v, 0) / Math.max(1, values.length)
const best = (runs: Throughput[]) => runs.reduce((a, b) => (b.perSecond > a.perSecond ? b : a))
const telemetryRate = (reports: PublisherReport[], k: number) => reports.reduce((n, r) => n + r.acknowledged * k, 0) / reports.reduce((n, r) => n + (r.lastAckAt - r.firstSentAt) / 1000, 0)
const listed = (runs: Throughput[]) => runs.map((r) => r.perSecond.toFixed(0)).join(', ')

function runsOf(m: Measured, name: string): { warmup: Throughput; runs: Throughput[] } {
  const found = m.rounds.get(name)
  if (!found || found.runs.length === 0) throw new Error(`no telemetry runs for ${name}`)
  return found
}

/** Every sample the gateway acknowledged must be in the historian; none it was never sent may be. */
function checkStored(m: Measured): string {
  const k = m.o.samplesPerMessage
  const g = runsOf(m, 'gateway')
  const reports = [g.warmup.publisher, ...g.runs.map((r) => r.publisher), ...m.cost.telemetry]
  const acknowledged = reports.reduce((n, r) => n + r.acknowledged, 0) * k
  const sent = reports.reduce((n, r) => n + r.sent, 0) * k
  if (m.stored < acknowledged || m.stored > sent) throw new Error(`the gateway acknowledged ${acknowledged} samples (of ${sent} sent) but its historian holds ${m.stored}`)
  return `Afterwards the historian held ${m.stored} rows for the ${acknowledged} samples the gateway acknowledged over all its runs (${sent} sent).`
}

function notes(m: Measured): string[] {
  if (m.ackAhead.lost > 0) throw new Error(`the gateway lost ${m.ackAhead.lost} samples it had acknowledged ahead of the disk`)
  const { o, cost } = m
  const [gateway, relay, red] = ['gateway', 'mosquitto', 'node-red'].map((n) => runsOf(m, n).runs) as [Throughput[], Throughput[], Throughput[]]
  const g = best(gateway)
  const quiet = summarize(cost.quiet.flatMap((r) => r.latencies))
  const loaded = summarize(cost.loaded.flatMap((r) => r.latencies))
  return [
    `One publisher program (bench/lib/telemetry-publisher.ts, its own process, a lean MQTT 3.1.1 client) for all three targets: ${o.connections} connections, one device account each, a window of ${o.window} unacknowledged QoS 1 PUBLISH per connection, each message \`{"p0":…,"p${o.samplesPerMessage - 1}":…}\` with ${o.samplesPerMessage} numeric samples on \`devices/<device>/telemetry\`. ` +
      `Every target is started before the first run and gets a warm-up of ${o.warmupMessages} messages per connection; then ${o.rounds} rounds of one timed run per target (${g.samples} samples each), the order rotated every round, each run timed from the first PUBLISH written to the last sample seen where the target puts it (wall-clock ms shared by the processes). ` +
      `The machine is shared and noisy: each figure is the target's best run, and the ratios are of best runs. All runs, samples/s — gateway: ${listed(gateway)}; Mosquitto: ${listed(relay)}; Node-RED: ${listed(red)}.`,
    `Gateway (\`node bin/takt.ts edge\`, its own process): the embedded broker with scrypt-hashed accounts and ACLs, an MQTT JSON device per connection whose profile maps p0…p${o.samplesPerMessage - 1} to ${o.samplesPerMessage} signals of kind value; with its default historian.ackWindowMs of 50, the gateway acknowledges a PUBLISH once its samples are recorded while its historian writer keeps up, and only once they are in historian.db with the WAL synced while it does not (docs/connectivity.md). ` +
      `The end is when the bench, polling historian.db on its own read-only connection every 5 ms, sees the last row. Best run: ${g.samples} samples in ${g.seconds.toFixed(2)} s, PUBACK after publish p50 ${ms(g.publisher.ackMs.p50)} ms, p99 ${ms(g.publisher.ackMs.p99)} ms, ` +
      `${cpuShare(g).toFixed(0)}% of one core (all threads, /proc/<pid>/stat), ${((100 * g.cpu.system) / cpuSeconds(g)).toFixed(0)}% of it in the kernel; RSS sampled every 100 ms. CPU per sample over all runs: gateway ${cpuPerSample(gateway).toFixed(2)} µs, Mosquitto + subscriber ${cpuPerSample(relay).toFixed(2)} µs, Mosquitto + Node-RED ${cpuPerSample(red).toFixed(2)} µs. ${checkStored(m)}`,
    `The window between a PUBACK and its samples being on disk, as the gateway measured it over all its runs (takt_historian_ack_ahead_max_ms: from the moment it let a PUBACK go ahead of the disk to the fdatasync of that sample's batch): at most ${m.ackAhead.maxMs.toFixed(1)} ms, over ${m.ackAhead.batches} batches written after a PUBACK ran ahead of them; ${m.ackAhead.lost} acknowledged samples lost. test/crash-telemetry.test.ts kills the gateway with kill -9 during a QoS 1 stream and finds every sample acknowledged more than 100 ms before the kill in historian.db (and, with ackWindowMs 0, every acknowledged sample). RSS is in MB (10^6 bytes), from VmRSS every 100 ms; a device's scrypt password check takes 16 MiB while it runs, which the services' fixed mmap threshold (docs/storage.md, Memory) returns after it.`,
    `Mosquitto ${m.mosquittoVersion} (Debian, its own process on a free port, a password file and ACLs like the gateway's accounts, no persistence, max_inflight_messages 1000, max_queued_messages 10,000,000) relaying to one QoS 1 subscriber (bench/lib/telemetry-subscriber.ts, its own process, a PUBACK for every message) that counts; ` +
      `the end is when the subscriber reads the last message. Nothing is stored: this is what a plain broker relays with this publisher.`,
    `${m.nodeRed} Node-RED has a Mosquitto of its own, set up like the relay's; the publisher sends to it, and the end is when the bench, polling the flow's SQLite file every 5 ms, sees the last row.`,
    `Completions with and without telemetry, on the same gateway after the telemetry runs: the benchmark line (bench/lib/bench-line.ts) set up over the API, ${Math.round(o.fixedRate * 3)} completions at ${o.fixedRate}/s to warm up, then ${2 * o.segments} segments of ${o.segmentSeconds} s at an even ${o.fixedRate}/s (bench/lib/open-loop-process.ts, open loop, in a process of its own), alternately without telemetry and while the publisher ran flat out into the gateway (started 1 s before the segment). ` +
      `Without telemetry: p50 ${ms(quiet.p50)} ms, p99 ${ms(quiet.p99)} ms, max ${ms(quiet.max)} ms over ${quiet.count}; with it: p50 ${ms(loaded.p50)} ms, p99 ${ms(loaded.p99)} ms, max ${ms(loaded.max)} ms over ${loaded.count}, while the gateway stored ${telemetryRate(cost.telemetry, o.samplesPerMessage).toFixed(0)} samples/s. ` +
      `The gateway process (all threads) used ${segmentCpu(cost.cpu.quiet, cost.quiet).toFixed(0)}% of a core while completing alone and ${segmentCpu(cost.cpu.loaded, cost.loaded).toFixed(0)}% with the telemetry; the publisher's own process ran on the same two cores.`,
  ]
}

export function report(m: Measured): BenchResult {
  const { o, cost } = m
  const gateway = best(runsOf(m, 'gateway').runs)
  const relay = best(runsOf(m, 'mosquitto').runs)
  const red = best(runsOf(m, 'node-red').runs)
  const gatewayRuns = runsOf(m, 'gateway').runs
  const rss = gatewayRuns.flatMap((r) => r.rssKb)
  const quiet = summarize(cost.quiet.flatMap((r) => r.latencies))
  const loaded = summarize(cost.loaded.flatMap((r) => r.latencies))
  return {
    title: 'QoS 1 telemetry into the historian, end to end',
    notes: notes(m),
    figures: [
      { label: 'Gateway: samples per second, first publish to last row in historian.db', value: gateway.perSecond, unit: '/s', digits: 0, target: { kind: 'min', value: 60_000 } },
      { label: 'Mosquitto: samples per second relayed to a QoS 1 subscriber', value: relay.perSecond, unit: '/s', digits: 0 },
      { label: 'Ratio gateway ÷ Mosquitto relay', value: gateway.perSecond / relay.perSecond, unit: '×', digits: 2, target: { kind: 'min', value: 1 } },
      { label: 'Node-RED (MQTT in → SQLite): samples per second stored', value: red.perSecond, unit: '/s', digits: 0 },
      { label: 'Ratio gateway ÷ Node-RED', value: gateway.perSecond / red.perSecond, unit: '×', digits: 2, target: { kind: 'min', value: 3 } },
      { label: 'Gateway PUBACK p99 (publish → acknowledged)', value: gateway.publisher.ackMs.p99, unit: 'ms', digits: 1 },
      { label: 'Longest PUBACK-to-disk window (a PUBACK sent ahead of the disk to its sample synced)', value: m.ackAhead.maxMs, unit: 'ms', digits: 1, target: { kind: 'max', value: 100 } },
      { label: 'Gateway CPU per sample', value: cpuPerSample(gatewayRuns), unit: 'µs', digits: 2 },
      { label: 'Gateway CPU during its best run', value: cpuShare(gateway), unit: '% of a core', digits: 0 },
      { label: 'Gateway RSS under telemetry load, mean', value: mb(mean(rss)), unit: 'MB', digits: 1 },
      { label: 'Gateway RSS under telemetry load, peak', value: mb(Math.max(...rss)), unit: 'MB', digits: 1, target: { kind: 'max', value: 250 } },
      { label: 'Node-RED RSS under the same load, peak', value: mb(Math.max(...runsOf(m, 'node-red').runs.flatMap((r) => r.rssKb))), unit: 'MB', digits: 1 },
      { label: `Completion p50 at an even ${o.fixedRate}/s, no telemetry`, value: quiet.p50, unit: 'ms', digits: 2 },
      { label: `Completion p50 at an even ${o.fixedRate}/s, telemetry flat out`, value: loaded.p50, unit: 'ms', digits: 2 },
      { label: 'Completion p50 difference', value: loaded.p50 - quiet.p50, unit: 'ms', digits: 2 },
      { label: `Completion p99 at an even ${o.fixedRate}/s, no telemetry`, value: quiet.p99, unit: 'ms', digits: 2 },
      { label: `Completion p99 at an even ${o.fixedRate}/s, telemetry flat out`, value: loaded.p99, unit: 'ms', digits: 2 },
      { label: 'Completion p99 difference (what telemetry costs the MES path)', value: loaded.p99 - quiet.p99, unit: 'ms', digits: 2 },
      { label: 'Gateway CPU while completing, no telemetry', value: segmentCpu(cost.cpu.quiet, cost.quiet), unit: '% of a core', digits: 0 },
      { label: 'Gateway CPU while completing, telemetry flat out', value: segmentCpu(cost.cpu.loaded, cost.loaded), unit: '% of a core', digits: 0 },
      { label: 'Telemetry stored meanwhile', value: telemetryRate(cost.telemetry, o.samplesPerMessage), unit: '/s', digits: 0 },
    ],
  }
}
