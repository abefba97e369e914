// The board's OEE tab: OEE per shift, its trend and the downtime Pareto of a work center, from GET /api/v1/oee — or "no OEE yet" on a gateway without it.
import { enc } from '../api.js'
import { lineChart, paretoBars } from '../chart.js'
import { fill, h } from '../dom.js'
import { formatNumber, formatPercent, t, tOr } from '../i18n.js'
import { table } from '../ui.js'

const periods = /** @type {const} */ ({ day: 24 * 3600_000, week: 7 * 24 * 3600_000 })

/**
 * The rows of a by-shift answer: `{ items: [{ date, shift, oee }] }` (oeeByShift), or the same fields flattened.
 * @param {any} res @returns {Array<{ label: string, oee: any }>}
 */
export function shiftRows(res) {
  const items = Array.isArray(res) ? res : (res?.items ?? res?.shifts ?? [])
  return items.map((/** @type {any} */ it) => ({ label: [it.date, it.shift].filter(Boolean).join(' ') || it.from || '?', oee: it.oee && typeof it.oee === 'object' ? it.oee : it }))
}

/** Stop time by reason over all shifts, for the Pareto. @param {Array<{ oee: any }>} rows */
function downtimeByReason(rows) {
  /** @type {Map<string, { name: string, ms: number }>} */
  const byReason = new Map()
  for (const { oee } of rows) {
    const losses = [...(oee?.losses?.availability?.byReason ?? []), ...(oee?.losses?.performance?.smallStopsByReason ?? [])]
    for (const l of losses) {
      const key = l.code ?? l.name
      const entry = byReason.get(key) ?? { name: l.code ? tOr(`reason.${l.code}`, l.name) : l.name, ms: 0 }
      entry.ms += l.ms ?? 0
      byReason.set(key, entry)
    }
  }
  return [...byReason.values()].filter((e) => e.ms > 0)
}

/** @param {HTMLElement} slot @param {any} ctx @param {any[]} workCenters */
export async function oeeTab(slot, ctx, workCenters) {
  const wcId = ctx.route.params[1] || workCenters[0]?.workCenterId
  const period = ctx.route.params[2] === 'week' ? 'week' : 'day'
  const shifts = h('div.oee-shifts')
  const trend = h('div.oee-trend')
  const pareto = h('div.oee-pareto')
  /** @type {{ destroy(): void } | null} */
  let chart = null
  fill(
    slot,
    h('nav.chips', { 'aria-label': t('dispatch.workCenters') }, workCenters.map((w) => h('a', { href: `#/board/oee/${enc(w.workCenterId)}/${period}`, 'aria-current': w.workCenterId === wcId ? 'page' : undefined }, w.name))),
    h('nav.chips', { 'aria-label': t('oee.period') }, Object.keys(periods).map((p) => h('a', { href: `#/board/oee/${enc(wcId)}/${p}`, 'aria-current': p === period ? 'page' : undefined }, t(`oee.${p}`)))),
    h('div.oee-grid', null, h('section.card', { 'aria-labelledby': 'oee-shifts' }, h('h2', { id: 'oee-shifts' }, t('oee.perShift')), shifts), h('section.card', { 'aria-labelledby': 'oee-trend' }, h('h2', { id: 'oee-trend' }, t('oee.trend')), trend), h('section.card', { 'aria-labelledby': 'oee-pareto' }, h('h2', { id: 'oee-pareto' }, t('oee.pareto')), pareto)),
  )
  const load = async () => {
    const to = new Date()
    const from = new Date(to.getTime() - periods[period])
    const res = await ctx.api.optional(`/api/v1/oee?workCenterId=${enc(wcId)}&from=${enc(from.toISOString())}&to=${enc(to.toISOString())}&by=shift`)
    chart?.destroy()
    chart = null
    if (res === null) {
      for (const el of [shifts, trend, pareto]) fill(el, h('p.no-oee', null, t('oee.none')))
      return
    }
    const rows = shiftRows(res)
    const head = [t('oee.shift'), t('oee.availability'), t('oee.performance'), t('oee.quality'), t('oee.oee')]
    fill(shifts, rows.length ? table(t('oee.perShiftOf', { wc: wcId }), head, rows.map((r) => [r.label, formatPercent(r.oee.availability), formatPercent(r.oee.performance), formatPercent(r.oee.quality), h('strong', null, formatPercent(r.oee.oee))])) : h('p', null, t('oee.noShifts')))
    fill(trend, rows.length ? null : h('p', null, t('oee.noShifts')))
    if (rows.length) {
      const pct = (/** @type {number | null | undefined} */ v) => (v === null || v === undefined ? null : Math.round(v * 1000) / 10)
      chart = lineChart(trend, {
        label: t('oee.trendOf', { wc: wcId }),
        series: [{ label: t('oee.oee'), unit: '%' }, { label: t('oee.availability'), unit: '%' }, { label: t('oee.performance'), unit: '%' }, { label: t('oee.quality'), unit: '%' }],
        x: rows.map((_, i) => i),
        xLabels: rows.map((r) => r.label),
        ys: [rows.map((r) => pct(r.oee.oee)), rows.map((r) => pct(r.oee.availability)), rows.map((r) => pct(r.oee.performance)), rows.map((r) => pct(r.oee.quality))],
        yRange: [0, 110],
      })
    }
    const downtime = downtimeByReason(rows)
    fill(pareto, downtime.length ? paretoBars(t('oee.pareto'), downtime.map((d) => ({ name: d.name, value: d.ms, text: t('oee.minutes', { n: formatNumber(d.ms / 60000, 1) }) }))) : h('p', null, t('oee.noDowntime')))
  }
  await load().catch((error) => fill(shifts, h('p.refusal-detail', { role: 'alert' }, String(error.detail ?? error.message))))
  return { refresh: () => void load().catch(() => {}), destroy: () => chart?.destroy() }
}
