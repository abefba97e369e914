// Time-series charts with uPlot, served by the gateway from node_modules; each chart has a text summary beside it, since a canvas says nothing to a screen reader.
import uPlot from '/hmi/vendor/uPlot.esm.js'
import { h } from './dom.js'

const palette = ['#0b4f8a', '#b35900', '#1e7b34', '#7a1f9c']

// uPlot's CSS comes with the charts, not with the page: the terminal has no chart and does not wait for it.
if (!document.querySelector('link[href="/hmi/vendor/uPlot.min.css"]')) document.head.append(h('link', { rel: 'stylesheet', href: '/hmi/vendor/uPlot.min.css' }))

/**
 * @param {HTMLElement} container the chart takes its width
 * @param {{ label: string, series: Array<{ label: string, unit?: string }>, x: number[], ys: Array<Array<number | null>>, height?: number, yRange?: [number, number], xLabels?: string[] }} spec
 *   x in Unix seconds, or 0, 1, 2 … naming `xLabels` (one point per shift)
 */
export function lineChart(container, spec) {
  const holder = h('div.chart', { role: 'img', 'aria-label': spec.label })
  container.append(holder)
  const width = Math.max(280, container.clientWidth - 8)
  const options = {
    width,
    height: spec.height ?? 260,
    series: [{}, ...spec.series.map((s, i) => ({ label: s.unit ? `${s.label} (${s.unit})` : s.label, stroke: palette[i % palette.length], width: 2, spanGaps: false }))],
    axes: [spec.xLabels ? { values: (/** @type {unknown} */ _u, /** @type {number[]} */ splits) => splits.map((i) => spec.xLabels?.[i] ?? '') } : {}, { size: 60 }],
    scales: { ...(spec.xLabels ? { x: { time: false } } : {}), ...(spec.yRange ? { y: { range: spec.yRange } } : {}) },
    legend: { show: true },
  }
  const plot = new uPlot(/** @type {any} */ (options), /** @type {any} */ ([spec.x, ...spec.ys]), holder)
  // The board is used on tablets turned either way: follow the container's width.
  const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(280, container.clientWidth - 8), height: spec.height ?? 260 }))
  resize.observe(container)
  return {
    destroy() {
      resize.disconnect()
      plot.destroy()
    },
  }
}

/**
 * Horizontal bars, largest first: the downtime Pareto, as plain elements (readable, printable, no canvas).
 * @param {string} label @param {Array<{ name: string, value: number, text: string }>} items
 */
export function paretoBars(label, items) {
  const sorted = [...items].sort((a, b) => b.value - a.value)
  const max = sorted[0]?.value || 1
  const total = sorted.reduce((s, i) => s + i.value, 0) || 1
  let cumulative = 0
  return h(
    'ol.pareto',
    { 'aria-label': label },
    sorted.map((item) => {
      cumulative += item.value
      const bar = h('span.bar')
      // Width from the data: a CSS custom property set from script, allowed by the page's style policy.
      bar.style.setProperty('--w', `${Math.round((item.value / max) * 100)}%`)
      return h('li', null, h('span.pareto-name', null, item.name), bar, h('span.pareto-value', null, `${item.text} · ${Math.round((cumulative / total) * 100)} %`))
    }),
  )
}
