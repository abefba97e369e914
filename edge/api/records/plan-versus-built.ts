// As planned versus as built (AS9100D 8.5.1, 8.1.2): for each planned operation and for the BOM, what the plan asked for beside what the runs recorded, and whether they agree.
import type { BatchRecord, PlannedOperation, RunRecord } from './batch-record.ts'

export interface PlanRow {
  operation: string
  planned: string
  built: string
  /** null while the operation has not run and the order may still run it. */
  agrees: boolean | null
}

const qty = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(4).replace(/0+$/, ''))

/** Lots per material, summed: "RESIN-001 (RESIN, 2)". */
function lotsUsed(runs: RunRecord[]): Map<string, Map<string, number>> {
  const byMaterial = new Map<string, Map<string, number>>()
  for (const c of runs.flatMap((r) => r.consumptions)) {
    const lots = byMaterial.get(c.materialId) ?? new Map<string, number>()
    lots.set(c.id, (lots.get(c.id) ?? 0) + c.quantity)
    byMaterial.set(c.materialId, lots)
  }
  return byMaterial
}

function operationRow(plan: PlannedOperation, runs: RunRecord[], orderDone: boolean): PlanRow {
  const planned = [
    `work center ${plan.workCenterId}`,
    plan.components.length ? `components ${plan.components.map((c) => `${c.materialId} ${qty(c.quantityPer)} each${plan.alternates[c.materialId]?.length ? ` (or ${plan.alternates[c.materialId]!.join(', ')})` : ''}`).join(', ')}` : 'no components',
    plan.measurements.length ? `measurements ${plan.measurements.map((m) => m.name).join(', ')}` : 'no measurements',
  ].join('; ')
  if (runs.length === 0) return { operation: `${plan.seq} ${plan.name}`, planned, built: 'not run', agrees: orderDone ? false : null }
  const centers = [...new Set(runs.map((r) => r.workCenterId))]
  const used = lotsUsed(runs)
  const accepted = new Set(plan.components.flatMap((c) => [c.materialId, ...(plan.alternates[c.materialId] ?? [])]))
  const unplanned = [...used.keys()].filter((m) => !accepted.has(m))
  const finished = runs.filter((r) => r.state === 'completed')
  const missingMaterial = plan.components.filter((c) => finished.length > 0 && ![c.materialId, ...(plan.alternates[c.materialId] ?? [])].some((m) => used.has(m)))
  const missingMeasurement = plan.measurements.filter((m) => finished.some((r) => !r.measurements.some((x) => x.name === m.name)))
  const built = [
    `work center ${centers.join(', ')}`,
    used.size ? `lots ${[...used].flatMap(([material, lots]) => [...lots].map(([lot, q]) => `${lot} (${material}, ${qty(q)})`)).join(', ')}` : 'no lots',
    `${runs.reduce((n, r) => n + r.measurements.length, 0)} measurements, ${runs.reduce((n, r) => n + r.measurements.filter((m) => !m.withinLimits).length, 0)} out of limits`,
    ...(unplanned.length ? [`not in the plan: ${unplanned.join(', ')}`] : []),
    ...(missingMaterial.length ? [`no lot booked for ${missingMaterial.map((c) => c.materialId).join(', ')}`] : []),
    ...(missingMeasurement.length ? [`not measured: ${missingMeasurement.map((m) => m.name).join(', ')}`] : []),
  ].join('; ')
  const agrees = centers.every((c) => c === plan.workCenterId) && unplanned.length === 0 && missingMaterial.length === 0 && missingMeasurement.length === 0
  return { operation: `${plan.seq} ${plan.name}`, planned, built, agrees }
}

export function planVersusBuilt(r: BatchRecord): PlanRow[] {
  const orderDone = r.order.state === 'completed' || r.order.state === 'closed'
  const rows = r.planned.operations.map((plan) => operationRow(plan, r.operations.find((o) => o.seq === plan.seq)?.runs ?? [], orderDone))
  // The BOM the order names against the materials its operations consumed: the configuration as built.
  const consumed = lotsUsed(r.operations.flatMap((o) => o.runs))
  const alternates = new Set(r.planned.operations.flatMap((p) => Object.values(p.alternates).flat()))
  const bom = r.planned.bom
  const outside = [...consumed.keys()].filter((m) => bom !== null && !bom.some((i) => i.materialId === m) && !alternates.has(m))
  rows.push({
    operation: `BOM ${r.order.bomId} ${r.order.bomVersion}`,
    planned: bom ? bom.map((i) => `${i.materialId} ${qty(i.quantityPer)} each`).join(', ') || 'no items' : 'BOM not defined on this gateway',
    built: consumed.size ? [...consumed].map(([m, lots]) => `${m} from ${[...lots.keys()].join(', ')}`).join('; ') + (outside.length ? `; outside the BOM: ${outside.join(', ')}` : '') : 'nothing consumed yet',
    agrees: bom === null ? null : outside.length === 0,
  })
  return rows
}
