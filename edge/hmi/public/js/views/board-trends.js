// The board's trends tab: pick a work center and one of its historian signals, see it over the last hours as a uPlot line with a text summary.
import { enc } from '../api.js'
import { lineChart } from '../chart.js'
import { field, fill, h } from '../dom.js'
import { formatNumber, formatTime, t } from '../i18n.js'

const ranges = /** @type {const} */ ({ '1h': 3600_000, '8h': 8 * 3600_000, '24h': 24 * 3600_000 })

/** @param {HTMLElement} slot @param {any} ctx */
export async function trendsTab(slot, ctx) {
  const saved = { workCenter: localStorage.getItem('takt.trendWorkCenter') ?? '', signal: localStorage.getItem('takt.trendSignal') ?? '' }
  const workCenter = field(t('trends.workCenter'), { name: 'work-center' }, 'select')
  const signal = field(t('trends.signal'), { name: 'signal' }, 'select')
  const range = field(t('trends.range'), { name: 'range' }, 'select')
  for (const r of Object.keys(ranges)) range.input.append(h('option', { value: r }, t(`trends.last${r}`)))
  const status = h('p.muted', { 'aria-live': 'polite' })
  const out = h('div.trend-out')
  /** @type {{ destroy(): void } | null} */
  let chart = null

  const andon = await ctx.api.get('/api/v1/hmi/andon')
  workCenter.input.append(h('option', { value: '' }, t('trends.allWorkCenters')))
  for (const wc of andon.items) workCenter.input.append(h('option', { value: wc.workCenterId }, wc.name))
  workCenter.input.value = andon.items.some((/** @type {any} */ wc) => wc.workCenterId === saved.workCenter) ? saved.workCenter : (andon.items[0]?.workCenterId ?? '')

  /** The picker lists what the historian holds for the work center; a signal it does not know is never typed in by hand. */
  const listSignals = async () => {
    const wc = workCenter.input.value
    const res = await ctx.api.get(`/api/v1/historian/signals${wc ? `?workCenterId=${enc(wc)}` : ''}`)
    const names = res.items.map((/** @type {{ signal: string }} */ s) => s.signal)
    fill(signal.input, names.map((/** @type {string} */ name) => h('option', { value: name }, name)))
    signal.input.disabled = names.length === 0
    if (names.includes(saved.signal)) signal.input.value = saved.signal
    fill(status, names.length ? t('trends.signals', { n: names.length }) : t('trends.noSignals'))
    return names.length > 0
  }

  const show = async () => {
    const name = signal.input.value
    chart?.destroy()
    chart = null
    if (!name) {
      fill(out)
      return
    }
    localStorage.setItem('takt.trendSignal', name)
    saved.signal = name
    const to = new Date()
    const from = new Date(to.getTime() - ranges[/** @type {keyof typeof ranges} */ (range.input.value)])
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
      fill(out, h('p.muted', { 'data-samples': samples.length, 'data-signal': name }, t('trends.summary', { n: samples.length, min: formatNumber(Math.min(...numbers)), max: formatNumber(Math.max(...numbers)), last: formatNumber(numbers.at(-1)), at: formatTime(samples.at(-1).time) })))
      chart = lineChart(out, { label: t('trends.chartOf', { signal: name }), series: [{ label: name }], x: samples.map((/** @type {any} */ s) => s.timestamp / 1000), ys: [ys] })
    } catch (error) {
      fill(out, h('p.refusal-detail', { role: 'alert' }, /** @type {any} */ (error).detail ?? String(error)))
    }
  }

  const guarded = (/** @type {() => Promise<unknown>} */ fn) => () => void fn().catch((error) => fill(out, h('p.refusal-detail', { role: 'alert' }, error?.detail ?? String(error))))
  workCenter.input.addEventListener(
    'change',
    guarded(async () => {
      localStorage.setItem('takt.trendWorkCenter', workCenter.input.value)
      await listSignals()
      await show()
    }),
  )
  signal.input.addEventListener('change', guarded(show))
  range.input.addEventListener('change', guarded(show))
  const form = h(
    'form.row',
    {
      onsubmit: (/** @type {Event} */ e) => {
        e.preventDefault()
        void show()
      },
    },
    workCenter.wrap,
    signal.wrap,
    range.wrap,
    h('button.primary', { type: 'submit' }, t('trends.show')),
  )
  fill(slot, h('h2', null, t('board.trends')), form, status, out)
  if (await listSignals()) await show()
  return { refresh: () => void show(), destroy: () => chart?.destroy() }
}
