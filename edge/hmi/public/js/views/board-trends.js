// The board's trends tab: one signal from the historian over the last hours, as a uPlot line with a text summary.
import { enc } from '../api.js'
import { lineChart } from '../chart.js'
import { field, fill, h } from '../dom.js'
import { formatNumber, formatTime, t } from '../i18n.js'

const ranges = /** @type {const} */ ({ '1h': 3600_000, '8h': 8 * 3600_000, '24h': 24 * 3600_000 })

/** @param {HTMLElement} slot @param {any} ctx */
export async function trendsTab(slot, ctx) {
  const saved = localStorage.getItem('takt.trendSignal') ?? ''
  const signal = field(t('trends.signal'), { name: 'signal', value: saved, list: 'signals', maxlength: 300, placeholder: 'WC-PRESS/temperature' })
  const range = field(t('trends.range'), { name: 'range' }, 'select')
  for (const r of Object.keys(ranges)) range.input.append(h('option', { value: r }, t(`trends.last${r}`)))
  const suggestions = h('datalist', { id: 'signals' })
  const out = h('div.trend-out')
  /** @type {{ destroy(): void } | null} */
  let chart = null

  const show = async () => {
    const name = signal.input.value.trim()
    if (!name) return
    localStorage.setItem('takt.trendSignal', name)
    const to = new Date()
    const from = new Date(to.getTime() - ranges[/** @type {keyof typeof ranges} */ (range.input.value)])
    chart?.destroy()
    chart = null
    try {
      const res = await ctx.api.get(`/api/v1/historian/samples?signal=${enc(name)}&from=${enc(from.toISOString())}&to=${enc(to.toISOString())}`)
      // Only numbers chart; a sample of bad quality is a gap, not a zero.
      const samples = res.items.filter((/** @type {any} */ s) => typeof s.value === 'number' || s.value === null)
      if (samples.length === 0) {
        fill(out, h('p', null, t('trends.none', { signal: name })))
        return
      }
      const ys = samples.map((/** @type {any} */ s) => (s.quality === 'bad' ? null : s.value))
      const numbers = ys.filter((/** @type {number | null} */ v) => v !== null)
      fill(out, h('p.muted', { 'data-samples': samples.length }, t('trends.summary', { n: samples.length, min: formatNumber(Math.min(...numbers)), max: formatNumber(Math.max(...numbers)), last: formatNumber(numbers.at(-1)), at: formatTime(samples.at(-1).time) })))
      chart = lineChart(out, { label: t('trends.chartOf', { signal: name }), series: [{ label: name }], x: samples.map((/** @type {any} */ s) => s.timestamp / 1000), ys: [ys] })
    } catch (error) {
      fill(out, h('p.refusal-detail', { role: 'alert' }, /** @type {any} */ (error).detail ?? String(error)))
    }
  }

  // Signal names for the field, where the gateway can list them (a historian route other work may add).
  if (ctx.capabilities.has('/api/v1/historian/signals')) {
    const res = await ctx.api.get('/api/v1/historian/signals').catch(() => null)
    for (const s of res?.items ?? []) suggestions.append(h('option', { value: typeof s === 'string' ? s : s.signal }))
  }
  const form = h(
    'form.row',
    {
      onsubmit: (/** @type {Event} */ e) => {
        e.preventDefault()
        void show()
      },
    },
    signal.wrap,
    range.wrap,
    h('button.primary', { type: 'submit' }, t('trends.show')),
  )
  fill(slot, h('h2', null, t('board.trends')), form, suggestions, out)
  if (saved) await show()
  return { refresh: () => void show(), destroy: () => chart?.destroy() }
}
