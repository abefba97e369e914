// OEE per shift, production day, order and product, and a line's OEE from its work centers — over raw data or buckets.
import { oeeTotalsFromBuckets, type BucketOeeInput } from './buckets.ts'
import type { PlannedPeriod } from './calendar.ts'
import { combineTotals, oeeTotals, type OeeInput, type OeeTotals } from './oee.ts'
import { intersectRanges, unionRanges, type Range } from './ranges.ts'
import { oeeFromTotals, type OeeResult } from './result.ts'
import type { ReasonTree } from './reasons.ts'

/** Either source of OEE: the raw timeline or the bucket projection. */
export type AnyOeeInput = OeeInput | BucketOeeInput

export function totalsOf(input: AnyOeeInput): OeeTotals {
  return 'bucket' in input ? oeeTotalsFromBuckets(input) : oeeTotals(input)
}

/** The same query over other periods and counts. */
function narrowed<I extends AnyOeeInput>(input: I, periods: readonly Range[], only?: OeeInput['only']): I {
  return only === undefined ? { ...input, periods } : { ...input, periods, only: { ...input.only, ...only } }
}

function groupPeriods<K>(periods: readonly PlannedPeriod[], keyOf: (p: PlannedPeriod) => K): Map<K, PlannedPeriod[]> {
  const groups = new Map<K, PlannedPeriod[]>()
  for (const p of periods) {
    const k = keyOf(p)
    const list = groups.get(k)
    if (list) list.push(p)
    else groups.set(k, [p])
  }
  return groups
}

/** OEE of every shift in the periods, in time order; the periods must be plannedPeriods' (tagged with their shift). */
export function oeeByShift(input: AnyOeeInput & { periods: readonly PlannedPeriod[] }): { date: string; shift: string; oee: OeeResult }[] {
  const groups = groupPeriods(input.periods, (p) => `${p.date}\u0000${p.shift}`)
  return [...groups.values()].map((periods) => ({
    date: periods[0]!.date,
    shift: periods[0]!.shift,
    oee: oeeFromTotals(totalsOf(narrowed(input, periods)), input.reasons),
  }))
}

/** OEE of every production day: the shifts that start on that local date (a night shift counts for the evening it starts). */
export function oeeByDay(input: AnyOeeInput & { periods: readonly PlannedPeriod[] }): { date: string; oee: OeeResult }[] {
  const groups = groupPeriods(input.periods, (p) => p.date)
  return [...groups.entries()].map(([date, periods]) => ({ date, oee: oeeFromTotals(totalsOf(narrowed(input, periods)), input.reasons) }))
}

/** When an order ran on the work center: from its start there to its end or pause (its runs). */
export interface OrderWindow extends Range {
  orderId: string
  productId: string
}

/**
 * OEE of each order: planned production time while the order was on the work center, with the counts
 * booked to it. Planned time between orders belongs to no order, so orders' planned time does not add
 * up to the work center's.
 */
export function oeeByOrder(input: AnyOeeInput, windows: readonly OrderWindow[]): { orderId: string; productId: string; oee: OeeResult }[] {
  const orders = new Map<string, OrderWindow[]>()
  for (const w of windows) orders.set(w.orderId, [...(orders.get(w.orderId) ?? []), w])
  return [...orders.entries()].map(([orderId, list]) => {
    const periods = intersectRanges(input.periods, unionRanges(list))
    return { orderId, productId: list[0]!.productId, oee: oeeFromTotals(totalsOf(narrowed(input, periods, { orderId })), input.reasons) }
  })
}

/** OEE of each product: planned production time while any of its orders was on the work center. */
export function oeeByProduct(input: AnyOeeInput, windows: readonly OrderWindow[]): { productId: string; oee: OeeResult }[] {
  const products = new Map<string, OrderWindow[]>()
  for (const w of windows) products.set(w.productId, [...(products.get(w.productId) ?? []), w])
  return [...products.entries()].map(([productId, list]) => {
    const periods = intersectRanges(input.periods, unionRanges(list))
    return { productId, oee: oeeFromTotals(totalsOf(narrowed(input, periods, { productId })), input.reasons) }
  })
}

/**
 * A line's OEE from its work centers' sums: their planned times and fully productive times add up,
 * so each work center weighs by its planned time. (Those who read a serial line's OEE at its
 * bottleneck take that work center's own OEE instead.)
 */
export function lineOee(workCenters: readonly OeeTotals[], reasons: ReasonTree): OeeResult {
  return oeeFromTotals(combineTotals(workCenters), reasons)
}
