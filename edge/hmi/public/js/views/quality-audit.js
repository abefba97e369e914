// The audit trail: every event newest first, filtered by type, subject, actor and time, and a check of the whole hash chain.
import { field, fill, h } from '../dom.js'
import { formatNumber, formatTime, t } from '../i18n.js'
import { table } from '../ui.js'

/** Event types an auditor filters by most; the field takes any other type too. */
const commonTypes = ['OperationStarted', 'OperationCompleted', 'MaterialConsumed', 'ConsumptionRefused', 'MeasurementRecorded', 'NonconformanceOpened', 'UnitHeld', 'UnitHoldReleased', 'OrderCreated', 'OrderReleased', 'OrderDispatched', 'OrderHeld', 'OrderHoldReleased', 'OrderCompleted', 'DispatchResequenced', 'WorkCenterStateChanged', 'PersonDefined', 'LotDefined', 'RecordSigned', 'AccountLocked', 'PersonDeactivated']

/** The event's data in one line, for the table; the full record is one click away in the API. @param {unknown} data */
function brief(data) {
  const text = JSON.stringify(data)
  return text.length > 160 ? `${text.slice(0, 157)}…` : text
}

/** A datetime-local value as an ISO instant in the terminal's time zone. @param {string} value */
const instant = (value) => (value ? new Date(value).toISOString() : '')

/** @param {HTMLElement} slot @param {any} ctx @param {any} refusal */
export async function auditTab(slot, ctx, refusal) {
  const type = field(t('audit.type'), { name: 'type', list: 'event-types', maxlength: 200 })
  const subject = field(t('audit.subject'), { name: 'subject', maxlength: 200, placeholder: 'order/PO-1001' })
  const actor = field(t('audit.actor'), { name: 'actor', maxlength: 200, placeholder: 'person:ana' })
  const from = field(t('audit.from'), { name: 'from', type: 'datetime-local' })
  const to = field(t('audit.to'), { name: 'to', type: 'datetime-local' })
  const rowsBody = h('div.audit-rows')
  const more = h('button.ghost', { type: 'button', hidden: true }, t('audit.more'))
  const chain = h('div.chain', { role: 'status', 'aria-live': 'polite' })
  /** @type {any[]} */
  let items = []
  /** @type {number | null} */
  let next = null

  const query = (/** @type {number | null} */ before) => {
    const q = new URLSearchParams({ limit: '50' })
    const add = (/** @type {string} */ k, /** @type {string} */ v) => v && q.set(k, v)
    add('type', type.input.value.trim())
    add('subject', subject.input.value.trim())
    add('actor', actor.input.value.trim())
    add('from', instant(from.input.value))
    add('to', instant(to.input.value))
    if (before) q.set('before', String(before))
    return `/api/v1/hmi/audit?${q}`
  }
  const draw = () => {
    const head = [t('audit.seq'), t('audit.time'), t('audit.type'), t('audit.subject'), t('audit.actor'), t('audit.data')]
    fill(rowsBody, items.length ? table(t('audit.title'), head, items.map((e) => [String(e.seq), formatTime(e.occurredAt), e.type, e.subject, e.actor, h('code', null, brief(e.data))])) : h('p', null, t('audit.none')))
    more.hidden = next === null
  }
  const load = async (/** @type {boolean} */ append) => {
    try {
      const res = await ctx.api.get(query(append ? next : null))
      items = append ? items.concat(res.items) : res.items
      next = res.next
      refusal.clear()
      draw()
    } catch (error) {
      refusal.show(error)
    }
  }
  more.addEventListener('click', () => void load(true))
  const verify = async () => {
    try {
      const report = await ctx.api.get('/api/v1/audit/verify')
      fill(chain, report.ok ? h('p.good', { 'data-ok': 'true' }, t('audit.chainOk', { n: formatNumber(report.count, 0) })) : h('p.bad', { 'data-ok': 'false' }, t('audit.chainBroken', { seq: report.broken.seq, reason: report.broken.reason })))
    } catch (error) {
      refusal.show(error)
    }
  }
  fill(
    slot,
    h(
      'form.filters',
      { onsubmit: (/** @type {Event} */ e) => (e.preventDefault(), void load(false)) },
      type.wrap,
      subject.wrap,
      actor.wrap,
      from.wrap,
      to.wrap,
      h('div.row', null, h('button.primary', { type: 'submit' }, t('audit.filter')), h('button.ghost', { type: 'button', onclick: verify }, t('audit.verify'))),
    ),
    h('datalist', { id: 'event-types' }, commonTypes.map((v) => h('option', { value: v }))),
    chain,
    rowsBody,
    more,
  )
  await load(false)
  return { refresh: () => {} }
}
