// Quality: holds (release with a reason), nonconformances, genealogy backward and forward by unit or lot with a unit's device history record, and the audit tab.
import { enc } from '../api.js'
import { debounce, field, fill, h } from '../dom.js'
import { formatNumber, formatTime, t, tOr } from '../i18n.js'
import { scanField, setScanTarget } from '../scan.js'
import { hasRole } from '../session.js'
import { askReason, noticeArea, refusalArea, subnav, table } from '../ui.js'
import { auditTab } from './quality-audit.js'

/** @param {HTMLElement} slot @param {any} ctx @param {any} refusal @param {any} notice */
async function holdsTab(slot, ctx, refusal, notice) {
  const isQuality = hasRole(ctx.session, 'quality')
  /** @param {string} path @param {string} what */
  const release = async (path, what) => {
    const reason = await askReason(t('holds.releaseTitle', { what }), t('wip.reason'))
    if (!reason) return
    try {
      await ctx.api.post(path, { reason })
      refusal.clear()
      notice.show(t('holds.released', { what }))
      await load()
    } catch (error) {
      refusal.show(error)
    }
  }
  const load = async () => {
    const [holds, ncs] = await Promise.all([ctx.api.get('/api/v1/hmi/holds'), ctx.api.get('/api/v1/nonconformances')])
    const orderRows = holds.orders.map((/** @type {any} */ o) => [h('strong', null, o.orderId), o.productId, o.reason ?? '–', o.heldBy ?? '–', formatTime(o.heldAt), h('button.ghost', { type: 'button', onclick: () => release(`/api/v1/orders/${enc(o.orderId)}/release-hold`, o.orderId) }, t('holds.release'))])
    const unitRows = holds.units.map((/** @type {any} */ u) => [h('strong', null, u.serial), u.orderId, u.reason ?? '–', isQuality ? h('button.ghost', { type: 'button', onclick: () => release(`/api/v1/units/${enc(u.serial)}/release-hold`, u.serial) }, t('holds.release')) : ''])
    const ncRows = ncs.items.map((/** @type {any} */ n) => [n.id.slice(-8), n.orderId, String(n.opSeq), n.unitSerial ?? '–', n.reason, tOr(`nc.${n.state}`, n.state), formatTime(n.openedAt), n.openedBy])
    fill(
      slot,
      h('section.card', null, orderRows.length ? table(t('holds.orders'), [t('wip.order'), t('wip.product'), t('holds.reason'), t('holds.by'), t('holds.at'), ''], orderRows) : h('p', null, h('strong', null, t('holds.orders')), ' ', t('holds.noneOrders'))),
      h('section.card', null, unitRows.length ? table(t('holds.units'), [t('holds.unit'), t('wip.order'), t('holds.reason'), ''], unitRows) : h('p', null, h('strong', null, t('holds.units')), ' ', t('holds.noneUnits'))),
      h('section.card', null, ncRows.length ? table(t('nc.title'), [t('nc.id'), t('wip.order'), t('nc.op'), t('holds.unit'), t('holds.reason'), t('nc.state'), t('holds.at'), t('holds.by')], ncRows) : h('p', null, h('strong', null, t('nc.title')), ' ', t('nc.none'))),
    )
  }
  await load()
  return { refresh: () => void load().catch(() => {}) }
}

/** @param {any[]} edges @param {(kind: string, id: string) => void} trace */
function edgeRows(edges, trace) {
  const link = (/** @type {string} */ kind, /** @type {string} */ id) => h('button.link', { type: 'button', onclick: () => trace(kind, id), 'aria-label': t('genealogy.traceThis', { id }) }, id)
  return edges.map((e) => [String(e.depth), link(e.producedKind, e.producedId), link(e.consumedKind, e.consumedId), e.materialId, formatNumber(e.quantity, 4), `${e.orderId} · ${e.opSeq}`, formatTime(e.at)])
}

/**
 * A unit's device history record, as the gateway renders it (HTML) or prints it (PDF), saved as a file:
 * the record needs the session token, so it is fetched here and handed to the browser as a download.
 * @param {any} ctx @param {any} refusal @param {string} serial
 */
function recordButtons(ctx, refusal, serial) {
  const path = `/api/v1/units/${enc(serial)}/record`
  const save = (/** @type {'html' | 'pdf'} */ format) => async (/** @type {Event} */ e) => {
    const button = /** @type {HTMLButtonElement} */ (e.currentTarget)
    button.disabled = true
    try {
      const blob = await ctx.api.blob(format === 'pdf' ? `${path}?format=pdf` : path)
      const url = URL.createObjectURL(blob)
      const link = h('a', { href: url, download: `device-history-record-${serial.replace(/[^A-Za-z0-9._-]/g, '_')}.${format}`, hidden: true })
      document.body.append(link)
      link.click()
      link.remove()
      setTimeout(() => URL.revokeObjectURL(url), 60_000)
      refusal.clear()
    } catch (error) {
      refusal.show(error)
    } finally {
      button.disabled = false
    }
  }
  return h(
    'p.row',
    null,
    h('button', { type: 'button', onclick: save('html') }, t('genealogy.record')),
    h('button.ghost', { type: 'button', onclick: save('pdf') }, t('genealogy.recordPdf')),
  )
}

/** @param {HTMLElement} slot @param {any} ctx @param {any} refusal */
function genealogyTab(slot, ctx, refusal) {
  const kind = field(t('genealogy.kind'), { name: 'kind' }, 'select')
  kind.input.append(h('option', { value: 'unit' }, t('genealogy.unit')), h('option', { value: 'lot' }, t('genealogy.lot')))
  const id = field(t('genealogy.id'), { name: 'trace-id', maxlength: 128 })
  const out = h('div.genealogy-out', { 'aria-live': 'polite' })
  const head = [t('genealogy.depth'), t('genealogy.produced'), t('genealogy.consumed'), t('genealogy.material'), t('genealogy.quantity'), t('genealogy.orderOp'), t('genealogy.at')]
  /** @param {string} k @param {string} value */
  const trace = async (k, value) => {
    kind.input.value = k
    id.input.value = value
    const q = `${k}=${enc(value)}`
    try {
      const [back, fwd] = await Promise.all([ctx.api.get(`/api/v1/genealogy/backward?${q}`), ctx.api.get(`/api/v1/genealogy/forward?${q}`)])
      refusal.clear()
      fill(
        out,
        h('h2', null, t('genealogy.of', { kind: t(`genealogy.${k}`), id: value })),
        k === 'unit' ? recordButtons(ctx, refusal, value) : null,
        h('section.card', { 'data-direction': 'backward' }, back.edges.length ? table(t('genealogy.backward'), head, edgeRows(back.edges, trace)) : h('p', null, h('strong', null, t('genealogy.backward')), ' ', t('genealogy.noneBackward'))),
        h(
          'section.card',
          { 'data-direction': 'forward' },
          fwd.edges.length ? table(t('genealogy.forward'), head, edgeRows(fwd.edges, trace)) : h('p', null, h('strong', null, t('genealogy.forward')), ' ', t('genealogy.noneForward')),
          fwd.orders.length ? h('p', null, t('genealogy.orders', { list: fwd.orders.join(', ') })) : null,
          fwd.units.length ? h('p', null, t('genealogy.units', { list: fwd.units.join(', ') })) : null,
        ),
      )
    } catch (error) {
      refusal.show(error)
    }
  }
  scanField(id.input, (code) => trace(kind.input.value, code))
  setScanTarget((code) => void trace(kind.input.value, code))
  fill(slot, h('form.row', { onsubmit: (/** @type {Event} */ e) => (e.preventDefault(), void trace(kind.input.value, id.input.value.trim())) }, kind.wrap, id.wrap, h('button.primary', { type: 'submit' }, t('genealogy.trace'))), out)
  id.input.focus()
  return { refresh: () => {} }
}

/** @param {HTMLElement} root @param {any} ctx */
export async function mount(root, ctx) {
  const isQuality = hasRole(ctx.session, 'quality')
  const tab = ctx.route.params[0] || 'holds'
  const refusal = refusalArea()
  const notice = noticeArea()
  const body = h('div.quality-body')
  const tabs = [['#/quality/holds', t('quality.holds')], ['#/quality/genealogy', t('quality.genealogy')]]
  if (isQuality) tabs.push(['#/quality/audit', t('quality.audit')])
  fill(root, h('section.quality', { 'aria-labelledby': 'quality-title' }, h('h1', { id: 'quality-title' }, t('nav.quality')), subnav(t('quality.tabs'), /** @type {Array<[string, string]>} */ (tabs), `#/quality/${tab}`), refusal.slot, notice.slot, body))
  /** @type {{ refresh(): void }} */
  let current = { refresh: () => {} }
  try {
    if (tab === 'genealogy') current = genealogyTab(body, ctx, refusal)
    else if (tab === 'audit' && isQuality) current = await auditTab(body, ctx, refusal)
    else current = await holdsTab(body, ctx, refusal, notice)
  } catch (error) {
    refusal.show(error)
  }
  const refresh = debounce(() => current.refresh(), 300)
  return {
    /** @param {import('../live.js').LiveEvent} event */
    onLive(event) {
      if (tab === 'holds' && /Held|HoldReleased|Nonconformance/.test(event.type)) refresh()
    },
    refresh,
  }
}
