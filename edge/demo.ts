// `takt demo` / `npm start`: a whole demo line in one process — cloud-sync, a gateway following it, the simulated machines, a day of orders and a crew working them.
import { defineBom, defineEquipment, defineLot, defineMaterial, definePerson, defineRouting } from './core/master-data.ts'
import { assignShiftCalendar, defineReasonCodes, defineShiftCalendar } from './core/oee-commands.ts'
import { defineOrder, dispatchOrder, releaseOrder } from './core/orders.ts'
import type { Decide } from './store/line-store.ts'
import { demoBom, demoEquipment, demoLots, demoMaterials, demoPassword, demoPeople, demoReasons, demoRouting, demoShiftCalendar } from './demo-line.ts'
import type { Gateway } from './gateway.ts'

export const demoAdminToken = 'takt-demo-admin-token-not-for-production'
/** Operators log in at the HMI terminal with a badge and a PIN; the demo's, printed at start. */
export const demoPin = '2580'
export const demoBadge = (personId: string) => `BADGE-${personId.toUpperCase()}`

/** Loads the sample line once; a second start finds it and changes nothing. */
export async function seedDemoLine(gateway: Gateway, now: Date): Promise<boolean> {
  if (gateway.store.view.equipment('L1')) return false
  const run = <R>(decide: Decide<R>) => {
    const done = gateway.store.execute('system:demo', decide)
    if (!done.ok) throw new Error(`demo seed refused: ${done.rejection.message}`)
  }
  for (const e of demoEquipment) run((v) => defineEquipment(v, e))
  for (const m of demoMaterials) run((v) => defineMaterial(v, m))
  run((v) => defineBom(v, demoBom))
  run((v) => defineRouting(v, demoRouting))
  // The same decisions PUT /api/v1/shift-calendars, /equipment/{id}/shift-calendar and /reason-codes make for ERP.
  run(() => defineShiftCalendar(demoShiftCalendar))
  run((v) => assignShiftCalendar(v, new Set([demoShiftCalendar.id]), 'L1', demoShiftCalendar.id))
  run(() => defineReasonCodes(demoReasons))
  for (const p of demoPeople(now)) {
    run((v) => definePerson(v, p))
    await gateway.accounts.setPassword(p.id, demoPassword, now)
    if (p.roles.includes('operator')) await gateway.accounts.setBadge(p.id, demoBadge(p.id), demoPin, now)
  }
  for (const l of demoLots(now)) run((v) => defineLot(v, l))
  for (let i = 1; i <= 5; i++) {
    const id = `PO-${1000 + i}`
    const dueAt = new Date(now.getTime() + i * 4 * 3600_000).toISOString()
    run((v) => defineOrder(v, { id, productId: 'BRK-100', quantity: 10 * i, serials: [], bomId: demoBom.id, bomVersion: 'A', routingId: demoRouting.id, routingVersion: 'A', lineId: 'L1', priority: 500, dueAt, plannedStartAt: null }))
    if (i <= 3) run((v) => releaseOrder(v, id))
    if (i <= 2) run((v) => dispatchOrder(v, id))
  }
  return true
}

export { demoHelp } from './demo/help.ts'

/** `takt demo`: loaded only when run, so that what imports the seed above stays light. */
export async function runDemo(args: string[] = []): Promise<void> {
  const { runDemoLine } = await import('./demo/cli.ts')
  await runDemoLine(args)
}
