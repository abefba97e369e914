// The catalogue of refusals: each has a stable code, an HTTP status and a sentence a person can act on.

export interface Rejection {
  readonly code: RejectionCode
  readonly status: number
  readonly message: string
  /** Facts that explain the refusal (ids, limits, states), for the UI and the audit trail. */
  readonly details?: Record<string, unknown>
}

const catalogue = {
  not_found: 404,
  order_state: 409,
  order_routing_locked: 409,
  order_conflict: 409,
  operation_not_found: 404,
  out_of_sequence: 409,
  operation_done: 409,
  unit_required: 422,
  unit_unknown: 422,
  unit_on_hold: 409,
  unit_scrapped: 409,
  unit_busy: 409,
  quantity_exceeded: 409,
  run_state: 409,
  wrong_work_center: 409,
  lot_unknown: 422,
  lot_wrong_material: 422,
  lot_not_released: 422,
  lot_expired: 422,
  lot_insufficient: 422,
  component_missing: 422,
  measurement_unknown: 422,
  measurement_unit: 422,
  measurement_missing: 422,
  not_qualified: 403,
  reference_unknown: 422,
  definition_invalid: 422,
  resequence_invalid: 422,
  stop_unknown: 404,
  downtime_edit_invalid: 422,
} as const

export type RejectionCode = keyof typeof catalogue

export function reject(code: RejectionCode, message: string, details?: Record<string, unknown>): Rejection {
  return details === undefined
    ? { code, status: catalogue[code], message }
    : { code, status: catalogue[code], message, details }
}
