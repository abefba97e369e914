// The benchmark line: one work center, a lot-based product whose one operation books 2 lots and takes 3 measurements.
import type { Bom, Equipment, Material, MaterialLot, Person, Routing } from '../../edge/core/model.ts'

export const workCenterId = 'BWC-ASSY'
export const lineId = 'BL1'
export const opSeq = 10
export const operatorId = 'bench-op'
export const operatorPassword = 'bench operator password'

export const equipment: Equipment[] = [
  { id: 'BENCH', level: 'site', name: 'Bench plant', parentId: null, ratedCycleTimeS: null },
  { id: 'BENCH.A', level: 'area', name: 'Bench area', parentId: 'BENCH', ratedCycleTimeS: null },
  { id: lineId, level: 'line', name: 'Bench line 1', parentId: 'BENCH.A', ratedCycleTimeS: null },
  { id: workCenterId, level: 'work_center', name: 'Assembly cell', parentId: lineId, ratedCycleTimeS: 10 },
]

export const materials: Material[] = [
  { id: 'BP-100', name: 'Bench product', uom: 'ea', serialized: false },
  { id: 'CMP-A', name: 'Housing', uom: 'ea', serialized: false },
  { id: 'CMP-B', name: 'Cover', uom: 'ea', serialized: false },
]

export const bom: Bom = {
  id: 'BOM-BP-100',
  version: 'A',
  productId: 'BP-100',
  items: [
    { materialId: 'CMP-A', quantityPer: 1, alternates: [] },
    { materialId: 'CMP-B', quantityPer: 1, alternates: [] },
  ],
}

export const routing: Routing = {
  id: 'RT-BP-100',
  version: 'A',
  productId: 'BP-100',
  operations: [
    {
      seq: opSeq,
      name: 'Assemble',
      workCenterId,
      setupTimeS: 0,
      idealCycleTimeS: 10,
      components: [
        { materialId: 'CMP-A', quantityPer: 1 },
        { materialId: 'CMP-B', quantityPer: 1 },
      ],
      measurements: [
        { name: 'length', unit: 'mm', lower: 99.5, upper: 100.5 },
        { name: 'width', unit: 'mm', lower: 49.5, upper: 50.5 },
        { name: 'torque', unit: 'Nm', lower: 20, upper: 30 },
      ],
      qualification: 'ASSY',
      allowOverlap: false,
      instructions: 'Fit the cover to the housing, measure, torque.',
    },
  ],
}

export const operator: Person = { id: operatorId, name: 'Bench Operator', roles: ['operator'], qualifications: [{ code: 'ASSY', expiresAt: null }], active: true }

/** Lots big enough that no benchmark can run them dry. */
export const lots: Array<Omit<MaterialLot, 'producedByOrder'>> = [
  { id: 'LOT-A-0001', materialId: 'CMP-A', status: 'released', expiresAt: null, quantity: 1e9 },
  { id: 'LOT-B-0001', materialId: 'CMP-B', status: 'released', expiresAt: null, quantity: 1e9 },
]

/** A lot-based order of the bench product; `quantity` large enough that the runs started never finish it. */
export function orderRequest(id: string, quantity: number, priority = 500, dueAt: string | null = null) {
  return { id, productId: bom.productId, quantity, serials: [], bomId: bom.id, bomVersion: bom.version, routingId: routing.id, routingVersion: routing.version, lineId, priority, dueAt, plannedStartAt: null }
}

/** The completion request's path for a started run. */
export const completionPath = (runId: string) => `/api/v1/runs/${runId}/complete`

/** The completion of one unit of a run: good 1, both lots booked, all three measurements within limits. */
export const completionBody = JSON.stringify({
  good: 1,
  consumptions: lots.map((l) => ({ lot: l.id, quantity: 1 })),
  measurements: [
    { name: 'length', value: 100.02, unit: 'mm' },
    { name: 'width', value: 49.98, unit: 'mm' },
    { name: 'torque', value: 24.5, unit: 'Nm' },
  ],
})
