// A sample line for the demo and the tests: three work centers making a serialized bracket, a labeler that packs it, the plant's shift calendar and reason tree.
import type { Bom, Equipment, Material, MaterialLot, Person, Routing } from './core/model.ts'
import type { ShiftCalendar } from './core/oee/calendar.ts'
import { defaultReasons } from './core/oee/default-reasons.ts'
import type { ReasonCode } from './core/oee/reasons.ts'

export const demoEquipment: Equipment[] = [
  { id: 'ACME', level: 'site', name: 'ACME Plant', parentId: null, ratedCycleTimeS: null },
  { id: 'ACME.ASSY', level: 'area', name: 'Assembly', parentId: 'ACME', ratedCycleTimeS: null },
  { id: 'L1', level: 'line', name: 'Bracket line 1', parentId: 'ACME.ASSY', ratedCycleTimeS: null },
  { id: 'WC-PRESS', level: 'work_center', name: 'Press 1', parentId: 'L1', ratedCycleTimeS: 20 },
  { id: 'WC-WELD', level: 'work_center', name: 'Weld cell', parentId: 'L1', ratedCycleTimeS: 45 },
  { id: 'WC-TEST', level: 'work_center', name: 'Leak test', parentId: 'L1', ratedCycleTimeS: 30 },
  // Not in the routing: a machine whose state, counts and OEE the line follows without operations booked to it.
  { id: 'WC-PACK', level: 'work_center', name: 'Pack and label', parentId: 'L1', ratedCycleTimeS: 24 },
]

export const demoMaterials: Material[] = [
  { id: 'BRK-100', name: 'Mounting bracket', uom: 'ea', serialized: true },
  { id: 'STEEL-2MM', name: 'Steel sheet 2 mm', uom: 'kg', serialized: false },
  { id: 'BOLT-M8', name: 'Bolt M8x20', uom: 'ea', serialized: false },
  { id: 'BOLT-M8-B', name: 'Bolt M8x20 (second source)', uom: 'ea', serialized: false },
  { id: 'PAINT-RAL7035', name: 'Powder coat RAL 7035', uom: 'kg', serialized: false },
]

export const demoBom: Bom = {
  id: 'BOM-BRK-100',
  version: 'A',
  productId: 'BRK-100',
  items: [
    { materialId: 'STEEL-2MM', quantityPer: 0.5, alternates: [] },
    { materialId: 'BOLT-M8', quantityPer: 2, alternates: ['BOLT-M8-B'] },
  ],
}

export const demoRouting: Routing = {
  id: 'RT-BRK-100',
  version: 'A',
  productId: 'BRK-100',
  operations: [
    {
      seq: 10,
      name: 'Press',
      workCenterId: 'WC-PRESS',
      setupTimeS: 600,
      idealCycleTimeS: 20,
      components: [{ materialId: 'STEEL-2MM', quantityPer: 0.5 }],
      measurements: [{ name: 'thickness', unit: 'mm', lower: 1.9, upper: 2.1 }],
      qualification: 'PRESS',
      allowOverlap: false,
      instructions: 'Load one blank, press, check thickness at the flange.',
    },
    {
      seq: 20,
      name: 'Weld bolts',
      workCenterId: 'WC-WELD',
      setupTimeS: 300,
      idealCycleTimeS: 45,
      components: [{ materialId: 'BOLT-M8', quantityPer: 2 }],
      measurements: [{ name: 'torque', unit: 'Nm', lower: 20, upper: 30 }],
      qualification: 'WELD',
      allowOverlap: false,
      instructions: 'Weld two M8 bolts, test the torque of one.',
    },
    {
      seq: 30,
      name: 'Leak test',
      workCenterId: 'WC-TEST',
      setupTimeS: 0,
      idealCycleTimeS: 30,
      components: [],
      measurements: [{ name: 'leak_rate', unit: 'mbar*l/s', lower: null, upper: 0.01 }],
      qualification: null,
      allowOverlap: false,
      instructions: 'Pressure-test the bracket.',
    },
  ],
}

export function demoPeople(now: Date): Person[] {
  const inAYear = new Date(now.getTime() + 365 * 86400_000).toISOString()
  const lastMonth = new Date(now.getTime() - 30 * 86400_000).toISOString()
  return [
    { id: 'ana', name: 'Ana Operator', roles: ['operator'], qualifications: [{ code: 'PRESS', expiresAt: inAYear }, { code: 'WELD', expiresAt: inAYear }], active: true },
    { id: 'ben', name: 'Ben Operator', roles: ['operator'], qualifications: [{ code: 'PRESS', expiresAt: inAYear }, { code: 'WELD', expiresAt: lastMonth }], active: true },
    { id: 'lea', name: 'Lea Lead', roles: ['lead'], qualifications: [], active: true },
    { id: 'quinn', name: 'Quinn Quality', roles: ['quality'], qualifications: [], active: true },
  ]
}

export function demoLots(now: Date): Array<Omit<MaterialLot, 'producedByOrder'>> {
  const later = new Date(now.getTime() + 180 * 86400_000).toISOString()
  const earlier = new Date(now.getTime() - 86400_000).toISOString()
  return [
    { id: 'STEEL-0001', materialId: 'STEEL-2MM', status: 'released', expiresAt: null, quantity: 5000 },
    { id: 'STEEL-0002-OLD', materialId: 'STEEL-2MM', status: 'released', expiresAt: earlier, quantity: 100 },
    { id: 'BOLT-0001', materialId: 'BOLT-M8', status: 'released', expiresAt: later, quantity: 20000 },
    { id: 'BOLTB-0001', materialId: 'BOLT-M8-B', status: 'released', expiresAt: later, quantity: 5000 },
    { id: 'BOLT-0002-Q', materialId: 'BOLT-M8', status: 'quarantined', expiresAt: later, quantity: 5000 },
    { id: 'PAINT-0001', materialId: 'PAINT-RAL7035', status: 'released', expiresAt: later, quantity: 200 },
  ]
}

/** Demo passwords, for the demo only: printed at start so a visitor can log in. */
export const demoPassword = 'takt-demo-password'

/**
 * The plant works round the clock in three 8-hour shifts, seven days a week, in the plant's own time
 * zone (so the night shift is 9 or 7 hours long when the clocks change). Each shift has a
 * 30-minute meal break and a 15-minute break; the plant closes on 25 and 26 December and 1 January.
 */
export const demoShiftCalendar: ShiftCalendar = {
  id: 'ACME-3-SHIFT',
  timeZone: 'Europe/Berlin',
  shifts: [
    { name: 'early', days: [1, 2, 3, 4, 5, 6, 7], start: '06:00', end: '14:00', breaks: [{ start: '09:00', end: '09:15' }, { start: '11:30', end: '12:00' }] },
    { name: 'late', days: [1, 2, 3, 4, 5, 6, 7], start: '14:00', end: '22:00', breaks: [{ start: '17:00', end: '17:15' }, { start: '19:30', end: '20:00' }] },
    { name: 'night', days: [1, 2, 3, 4, 5, 6, 7], start: '22:00', end: '06:00', breaks: [{ start: '01:00', end: '01:30' }, { start: '03:30', end: '03:45' }] },
  ],
  holidays: ['2026-12-25', '2026-12-26', '2027-01-01', '2027-12-25', '2027-12-26', '2028-01-01'],
  plannedDowntime: [],
}

/**
 * The plant's reason tree: the shipped one (its PackML IDs are the ones the demo simulators report)
 * and the stops particular to this line, which an operator picks at the terminal.
 */
export const demoReasons: ReasonCode[] = [
  ...defaultReasons,
  { code: 'setup.die_change', name: 'Die change at the press', parent: 'setup', loss: 'setup', planned: true },
  { code: 'setup.leak_calibration', name: 'Leak tester calibration', parent: 'setup', loss: 'setup', planned: true },
  { code: 'failure.weld_tips', name: 'Weld tips worn', parent: 'failure', loss: 'breakdown', planned: false },
]
