// The run in progress at a terminal: scan the components' lots (checked at once), record measurements against their limits, count good and scrap, pause, complete.
import { enc } from '../api.js'
import { field, h } from '../dom.js'
import { formatNumber, formatTime, t, tOr } from '../i18n.js'
import { scanField } from '../scan.js'
import { askReason } from '../ui.js'

/**
 * @typedef {{ materialId: string, quantityPer: number }} Component
 * @typedef {{ name: string, unit: string, lower: number | null, upper: number | null }} MeasurementSpec
 * @typedef {{
 *   run: { id: string, orderId: string, opSeq: number, unitSerial: string | null, quantity: number, state: string, startedAt: string },
 *   order: { id: string, productId: string } | undefined,
 *   operation: { seq: number, name: string, instructions: string, components: Component[], measurements: MeasurementSpec[], alternates: Record<string, string[]> },
 *   consumptions: Array<{ lot: string, materialId: string, quantity: number }>,
 *   measurements: Array<{ name: string, value: number, unit: string, withinLimits: boolean }>,
 * }} RunDetail
 * @typedef {{ api: any, refusal: { show(e: unknown): void, clear(): void }, notice: { show(text: string): void }, reload(): Promise<void>, done(result: any): void, scrapReasons: Array<{ code: string, name: string }> }} RunHooks
 */

/** "1.9 – 2.1 mm", "≤ 0.01 mbar*l/s". @param {MeasurementSpec} m */
export function limitsText(m) {
  if (m.lower !== null && m.upper !== null) return `${formatNumber(m.lower, 6)} – ${formatNumber(m.upper, 6)} ${m.unit}`
  if (m.upper !== null) return `≤ ${formatNumber(m.upper, 6)} ${m.unit}`
  if (m.lower !== null) return `≥ ${formatNumber(m.lower, 6)} ${m.unit}`
  return m.unit
}

/** Accepts "2,05" as well as "2.05": German keyboards type a comma. @param {string} text */
export function parseDecimal(text) {
  const n = Number(text.trim().replace(',', '.'))
  return text.trim() !== '' && Number.isFinite(n) ? n : null
}

/** @param {MeasurementSpec} m @param {number} v */
const within = (m, v) => (m.lower === null || v >= m.lower) && (m.upper === null || v <= m.upper)

/** @param {RunDetail} d @param {Component} c */
function bookedFor(d, c) {
  const accepted = [c.materialId, ...(d.operation.alternates?.[c.materialId] ?? [])]
  return d.consumptions.filter((x) => accepted.includes(x.materialId))
}

/** @param {RunDetail} d @param {RunHooks} hooks @param {(fn: () => Promise<void>) => Promise<void>} act */
function componentRows(d, hooks, act) {
  /** @type {HTMLInputElement[]} */
  const open = []
  const rows = d.operation.components.map((c) => {
    const booked = bookedFor(d, c)
    const need = c.quantityPer * d.run.quantity
    const have = booked.reduce((s, x) => s + x.quantity, 0)
    const lot = field(t('run.lotFor', { material: c.materialId }), { name: `lot-${c.materialId}`, maxlength: 128, class: 'scan' })
    const qty = field(t('run.quantity'), { name: `qty-${c.materialId}`, inputmode: 'decimal', value: String(have >= need ? need : need - have), class: 'qty' })
    const book = async () => {
      const quantity = parseDecimal(qty.input.value)
      const code = lot.input.value.trim()
      if (!code) return
      await act(async () => {
        try {
          await hooks.api.post(`/api/v1/runs/${enc(d.run.id)}/consumptions`, { lot: code, quantity })
          hooks.notice.show(t('run.lotBooked', { lot: code }))
          await hooks.reload()
        } catch (error) {
          lot.input.select()
          throw error
        }
      })
    }
    scanField(lot.input, book)
    if (have + 1e-9 < need) open.push(lot.input)
    return h(
      'li.requirement',
      { 'data-material': c.materialId, 'data-done': have + 1e-9 >= need ? 'yes' : 'no' },
      h('p.req-head', null, h('strong', null, c.materialId), ' ', h('span', null, t('run.booked', { have: formatNumber(have, 4), need: formatNumber(need, 4) })), have + 1e-9 >= need ? h('span.ok-mark', null, ` ✓ ${t('run.complete')}`) : null),
      booked.length ? h('p.booked', null, booked.map((b) => `${b.lot} (${formatNumber(b.quantity, 4)})`).join(', ')) : null,
      h('div.row', null, lot.wrap, qty.wrap, h('button', { type: 'button', onclick: book }, t('run.book'))),
    )
  })
  return { list: rows.length ? h('ul.requirements', null, rows) : h('p', null, t('run.noComponents')), open }
}

/** @param {RunDetail} d @param {RunHooks} hooks @param {(fn: () => Promise<void>) => Promise<void>} act */
function measurementRows(d, hooks, act) {
  const rows = d.operation.measurements.map((m) => {
    const recorded = d.measurements.filter((x) => x.name === m.name)
    const value = field(t('run.valueOf', { name: m.name, unit: m.unit }), { name: `m-${m.name}`, inputmode: 'decimal', autocomplete: 'off', maxlength: 32 })
    const hint = h('span.hint', { 'aria-live': 'polite' })
    value.input.addEventListener('input', () => {
      const v = parseDecimal(value.input.value)
      hint.textContent = v === null ? '' : within(m, v) ? t('run.inLimits') : t('run.outOfLimits')
      hint.className = `hint ${v === null ? '' : within(m, v) ? 'good' : 'bad'}`
    })
    const record = async () => {
      const v = parseDecimal(value.input.value)
      if (v === null) return
      await act(async () => {
        await hooks.api.post(`/api/v1/runs/${enc(d.run.id)}/measurements`, { name: m.name, value: v, unit: m.unit })
        hooks.notice.show(within(m, v) ? t('run.measured', { name: m.name }) : t('run.measuredOut', { name: m.name }))
        await hooks.reload()
      })
    }
    value.input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') {
        e.preventDefault()
        void record()
      }
    })
    return h(
      'li.requirement',
      { 'data-measurement': m.name, 'data-done': recorded.length ? 'yes' : 'no' },
      h('p.req-head', null, h('strong', null, m.name), ' ', h('span.limits', null, t('run.limits', { limits: limitsText(m) }))),
      recorded.length ? h('p.booked', null, recorded.map((r) => `${formatNumber(r.value, 6)} ${r.unit} ${r.withinLimits ? '✓' : `✗ ${t('run.outOfLimits')}`}`).join(', ')) : null,
      h('div.row', null, value.wrap, hint, h('button', { type: 'button', onclick: record }, t('run.record'))),
    )
  })
  return rows.length ? h('ul.requirements', null, rows) : h('p', null, t('run.noMeasurements'))
}

/** @param {RunDetail} d @param {RunHooks} hooks @param {(fn: () => Promise<void>) => Promise<void>} act */
function completionForm(d, hooks, act) {
  const good = field(t('run.good'), { name: 'good', type: 'number', min: 0, step: 1, value: d.run.quantity, inputmode: 'numeric' })
  const scrap = field(t('run.scrap'), { name: 'scrap', type: 'number', min: 0, step: 1, value: 0, inputmode: 'numeric' })
  const reasons = h('ul.scrap-reasons')
  const addReason = () => {
    const select = field(t('run.scrapReason'), { name: 'scrap-reason' }, 'select')
    for (const r of hooks.scrapReasons) select.input.append(h('option', { value: r.code }, tOr(`reason.${r.code}`, r.name)))
    const qty = field(t('run.quantity'), { name: 'scrap-qty', type: 'number', min: 1, step: 1, value: 1, inputmode: 'numeric' })
    const row = h('li.row', null, select.wrap, qty.wrap, h('button.ghost', { type: 'button', onclick: () => row.remove() }, t('run.removeReason')))
    reasons.append(row)
  }
  scrap.input.addEventListener('change', () => {
    const n = Number(scrap.input.value)
    good.input.value = String(Math.max(d.run.quantity - n, 0))
    if (n > 0 && reasons.children.length === 0) addReason()
  })
  const complete = () =>
    act(async () => {
      const scrapReasons = [...reasons.querySelectorAll('li')].map((li) => ({
        reason: /** @type {HTMLSelectElement} */ (li.querySelector('select')).value,
        quantity: Number(/** @type {HTMLInputElement} */ (li.querySelector('input')).value),
      }))
      const result = await hooks.api.post(`/api/v1/runs/${enc(d.run.id)}/complete`, { good: Number(good.input.value), scrap: Number(scrap.input.value), scrapReasons })
      hooks.done(result)
    })
  return h(
    'div.completion',
    null,
    h('div.row', null, good.wrap, scrap.wrap),
    reasons,
    h('button.ghost', { type: 'button', onclick: addReason }, t('run.addReason')),
    h('div.row.actions', null, h('button.primary.big', { type: 'button', onclick: complete }, t('run.completeButton'))),
  )
}

/**
 * The run panel; returns it and the lot field a scan with no focus should go to.
 * @param {RunDetail} d @param {RunHooks} hooks
 */
export function runPanel(d, hooks) {
  let busy = false
  /** One action at a time; a refusal is shown big, success clears it. @param {() => Promise<void>} fn */
  const act = async (fn) => {
    if (busy) return
    busy = true
    try {
      await fn()
      hooks.refusal.clear()
    } catch (error) {
      hooks.refusal.show(error)
    } finally {
      busy = false
    }
  }
  const paused = d.run.state === 'paused'
  const pause = () =>
    act(async () => {
      const reason = await askReason(t('run.pauseTitle'), t('run.pauseReason'))
      if (!reason) return
      await hooks.api.post(`/api/v1/runs/${enc(d.run.id)}/pause`, { reason })
      await hooks.reload()
    })
  const resume = () =>
    act(async () => {
      await hooks.api.post(`/api/v1/runs/${enc(d.run.id)}/resume`)
      await hooks.reload()
    })
  const components = componentRows(d, hooks, act)
  const what = d.run.unitSerial ? t('run.unit', { unit: d.run.unitSerial }) : t('run.qty', { qty: formatNumber(d.run.quantity) })
  const panel = h(
    'section.run',
    { 'aria-labelledby': 'run-title', 'data-run': d.run.id, 'data-state': d.run.state },
    h('h2', { id: 'run-title' }, `${d.run.orderId} · ${d.operation.seq} ${d.operation.name}`),
    h('p.run-meta', null, h('span.state', { class: paused ? 'st-idle' : 'st-running' }, paused ? t('run.paused') : t('run.running')), ' ', what, ' · ', t('run.since', { time: formatTime(d.run.startedAt) })),
    d.operation.instructions ? h('div.instructions', null, h('h3', null, t('op.instructions')), h('p', null, d.operation.instructions)) : null,
    h('h3', null, t('op.components')),
    components.list,
    h('h3', null, t('op.measurements')),
    measurementRows(d, hooks, act),
    paused ? null : h('h3', null, t('run.counts')),
    paused ? null : completionForm(d, hooks, act),
    h('div.row.actions', null, paused ? h('button.primary.big', { type: 'button', onclick: resume }, t('run.resume')) : h('button.ghost', { type: 'button', onclick: pause }, t('run.pause'))),
  )
  return { panel, nextLotField: components.open[0] ?? null }
}
