// The reason tree Takt ships: a starting point a plant replaces with its own; PackML IDs match the demo line's simulators.
import type { ReasonCode } from './reasons.ts'

/**
 * PackML StopReason IDs are vendor-defined; this numbering is Takt's: 1xx equipment failures,
 * 2xx short stops, 3xx setup, 4xx material flow and people, 6xx planned time.
 */
export const defaultReasons: readonly ReasonCode[] = [
  { code: 'unplanned', name: 'Unplanned stops', loss: 'breakdown', planned: false },
  { code: 'failure', name: 'Equipment failure', parent: 'unplanned', loss: 'breakdown', planned: false },
  { code: 'failure.mechanical', name: 'Mechanical failure', parent: 'failure', loss: 'breakdown', planned: false, packml: 101 },
  { code: 'failure.electrical', name: 'Electrical failure', parent: 'failure', loss: 'breakdown', planned: false, packml: 102 },
  { code: 'failure.pneumatic', name: 'Pneumatic or hydraulic failure', parent: 'failure', loss: 'breakdown', planned: false, packml: 103 },
  { code: 'failure.drive', name: 'Drive fault', parent: 'failure', loss: 'breakdown', planned: false, packml: 111 },
  { code: 'failure.sensor', name: 'Sensor fault', parent: 'failure', loss: 'breakdown', planned: false, packml: 112 },
  { code: 'failure.tooling', name: 'Tooling failure', parent: 'failure', loss: 'breakdown', planned: false, packml: 121 },
  { code: 'flow', name: 'Material flow and people', parent: 'unplanned', loss: 'breakdown', planned: false },
  { code: 'flow.starved', name: 'Starved: no material from upstream', parent: 'flow', loss: 'breakdown', planned: false, packml: 401 },
  { code: 'flow.blocked', name: 'Blocked: downstream full', parent: 'flow', loss: 'breakdown', planned: false, packml: 402 },
  { code: 'flow.material', name: 'Material missing or wrong', parent: 'flow', loss: 'breakdown', planned: false, packml: 403 },
  { code: 'flow.operator', name: 'No operator', parent: 'flow', loss: 'breakdown', planned: false, packml: 404 },
  { code: 'flow.quality_hold', name: 'Quality hold', parent: 'flow', loss: 'breakdown', planned: false, packml: 405 },

  { code: 'setup', name: 'Setup and adjustments', loss: 'setup', planned: true },
  { code: 'setup.changeover', name: 'Changeover', parent: 'setup', loss: 'setup', planned: true, packml: 301 },
  { code: 'setup.cleaning', name: 'Cleaning', parent: 'setup', loss: 'setup', planned: true, packml: 302 },
  { code: 'setup.adjustment', name: 'Adjustment', parent: 'setup', loss: 'setup', planned: false, packml: 303 },
  { code: 'setup.inspection', name: 'Quality inspection', parent: 'setup', loss: 'setup', planned: true, packml: 304 },
  { code: 'setup.warmup', name: 'Warm-up', parent: 'setup', loss: 'setup', planned: true, packml: 305 },

  { code: 'small_stop', name: 'Small stops', loss: 'small_stop', planned: false },
  { code: 'small_stop.jam', name: 'Jam', parent: 'small_stop', loss: 'small_stop', planned: false, packml: 201 },
  { code: 'small_stop.misfeed', name: 'Misfeed', parent: 'small_stop', loss: 'small_stop', planned: false, packml: 211 },
  { code: 'small_stop.sensor_blocked', name: 'Sensor blocked', parent: 'small_stop', loss: 'small_stop', planned: false, packml: 221 },
  { code: 'small_stop.cleaning', name: 'Short cleaning', parent: 'small_stop', loss: 'small_stop', planned: false, packml: 231 },

  { code: 'speed', name: 'Slow cycles', loss: 'speed', planned: false },
  { code: 'speed.reduced', name: 'Running below rated speed', parent: 'speed', loss: 'speed', planned: false },
  { code: 'speed.wear', name: 'Worn tooling', parent: 'speed', loss: 'speed', planned: false },

  { code: 'reject', name: 'Production rejects', loss: 'production_reject', planned: false },
  { code: 'reject.dimension', name: 'Out of dimension', parent: 'reject', loss: 'production_reject', planned: false },
  { code: 'reject.visual', name: 'Visual defect', parent: 'reject', loss: 'production_reject', planned: false },
  { code: 'reject.weight', name: 'Weight out of limits', parent: 'reject', loss: 'production_reject', planned: false },
  { code: 'reject.rework', name: 'Rework: not good the first time', parent: 'reject', loss: 'production_reject', planned: false },
  { code: 'startup', name: 'Startup rejects', loss: 'startup_reject', planned: false },
  { code: 'startup.warmup', name: 'Scrap while warming up', parent: 'startup', loss: 'startup_reject', planned: false },
  { code: 'startup.changeover', name: 'Scrap after a changeover', parent: 'startup', loss: 'startup_reject', planned: false },

  { code: 'planned', name: 'Planned time, not production time', loss: 'planned', planned: true },
  { code: 'planned.break', name: 'Break', parent: 'planned', loss: 'planned', planned: true, packml: 601 },
  { code: 'planned.maintenance', name: 'Planned maintenance', parent: 'planned', loss: 'planned', planned: true, packml: 602 },
  { code: 'planned.no_orders', name: 'No orders', parent: 'planned', loss: 'planned', planned: true, packml: 603 },
  { code: 'planned.meeting', name: 'Meeting or training', parent: 'planned', loss: 'planned', planned: true, packml: 604 },
  { code: 'planned.trial', name: 'Trial or engineering run', parent: 'planned', loss: 'planned', planned: true, packml: 605 },
]
