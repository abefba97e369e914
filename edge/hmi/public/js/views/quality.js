// Quality: holds (release with a reason), nonconformances, genealogy backward and forward by unit or lot with a unit's device history record, and the audit tab.
import { ApiError, enc } from '../api.js'
import { debounce, field, fill, h } from '../dom.js'
import { formatNumber, formatTime, t, tOr } from '../i18n.js'
import { scanField, setScanTarget } from '../scan.js'
import { hasRole } from '../session.js'
import { signDialog, signatureList, signatureRows, signaturesOf } from '../signing.js'
import { askReason, noticeArea, refusalArea, subnav, table } from '../ui.js'
import { auditTab } from './quality-audit.js'

const dispositions = ['use_as_is', 'rework', 'repair', 'scrap', 'return_to_supplier']

/**
 * Asks how a nonconformance is dealt with, and why, in a dialog of its own. Resolves with both, or null when cancelled.
 * @param {string} ncId @returns {Promise<{ disposition: string, reason: string } | null>}
 */
function askDisposition(ncId) {
  const dialog = /** @type {HTMLDialogElement} */ (h('dialog', { 'aria-labelledby': 'disposition-title' }))
  const choice = field(t('nc.disposition'), { name: 'disposition', required: true }, 'select')
  choice.input.append(...dispositions.map((d) => h('option', { value: d }, t(`nc.disp.${d}`))))
  const reason = field(t('wip.reason'), { name: 'disposition-reason', required: true, maxlength: 1000, autocomplete: 'off' })
  document.body.append(dialog)
  return new Promise((resolve) => {
    const done = (/** @type {{ disposition: string, reason: string } | null} */ answer) => {
      dialog.close()
      dialog.remove()
      resolve(answer)
    }
    dialog.addEventListener('cancel', (e) => (e.preventDefault(), done(null)))
    fill(
      dialog,
      h(
        'form',
        { onsubmit: (/** @type {Event} */ e) => (e.preventDefault(), reason.input.value.trim() ? done({ disposition: choice.input.value, reason: reason.input.value.trim() }) : undefined) },
        h('h2', { id: 'disposition-title' }, t('nc.dispositionTitle', { id: ncId.slice(-8) })),
        choice.wrap,
        reason.wrap,
        h('div.row.end', null, h('button.ghost', { type: 'button', onclick: () => done(null) }, t('app.cancel')), h('button.primary', { type: 'submit' }, t('app.ok'))),
      ),
    )
    dialog.showModal()
    choice.input.focus()
  })
}

/** @param {HTMLElement} slot @param {any} ctx @param {any} refusal @param {any} notice */
async function holdsTab(slot, ctx, refusal, notice) {
  const isQuality = hasRole(ctx.session, 'quality')
  // The signatures given here stay in view after the released unit has left the list (21 CFR 11.50(b)).
  const signedSlot = h('div.signed-here', { 'aria-live': 'polite' })
  /**
   * Releases an order or a unit. Where the line requires a signature (422 signature_required), the
   * signing dialog asks for it and the release is sent again with it.
   * @param {string} path @param {string} what @param {string | null} unitSerial
   */
  const release = async (path, what, unitSerial = null) => {
    const reason = await askReason(t('holds.releaseTitle', { what }), t('wip.reason'))
    if (!reason) return
    try {
      await ctx.api.post(path, { reason })
      refusal.clear()
      notice.show(t('holds.released', { what }))
      await load()
    } catch (error) {
      if (!(error instanceof ApiError && error.code === 'signature_required')) return refusal.show(error)
      const signed = await signDialog({ title: t('sign.title', { what: t('sign.release', { what }) }), session: ctx.session, attempt: (signature) => ctx.api.post(path, { reason, signature }) })
      if (!signed) return
      refusal.clear()
      notice.show(t('sign.released', { what }))
      if (unitSerial) {
        const record = await ctx.api.get(`/api/v1/as-built/units/${enc(unitSerial)}`).catch(() => null)
        if (record) signedSlot.prepend(h('div', { 'data-unit': unitSerial }, h('h2', null, t('sign.of', { what })), signatureList(record.signatures)))
      }
      await load()
    }
  }
  /**
   * Dispositions a nonconformance; where the line requires a signature, the signing dialog asks for
   * it and the disposition is sent again with it. Its signatures are shown once given.
   * @param {any} nc
   */
  const disposition = async (nc) => {
    const answer = await askDisposition(nc.id)
    if (!answer) return
    const path = `/api/v1/nonconformances/${enc(nc.id)}/disposition`
    const what = t('nc.which', { id: nc.id.slice(-8), disposition: t(`nc.disp.${answer.disposition}`) })
    try {
      await ctx.api.post(path, answer)
    } catch (error) {
      if (!(error instanceof ApiError && error.code === 'signature_required')) return refusal.show(error)
      const signed = await signDialog({ title: t('sign.title', { what }), session: ctx.session, attempt: (signature) => ctx.api.post(path, { ...answer, signature }) })
      if (!signed) return
    }
    refusal.clear()
    notice.show(t('nc.dispositionDone', { what }))
    const record = await ctx.api.get(`/api/v1/nonconformances/${enc(nc.id)}`).catch(() => null)
    if (record?.signatures?.length) signedSlot.prepend(h('div', { 'data-nc': nc.id }, h('h2', null, t('sign.of', { what })), signatureList(record.signatures)))
    await load()
  }
  const load = async () => {
    const [holds, ncs] = await Promise.all([ctx.api.get('/api/v1/hmi/holds'), ctx.api.get('/api/v1/nonconformances')])
    // Each nonconformance is listed with its signatures (21 CFR 11.50(b)), read in one request.
    const signed = ncs.items.length ? await signaturesOf(ctx.api, ncs.items.map((/** @type {any} */ n) => `nonconformance/${n.id}`)).catch((e) => (refusal.show(e), {})) : {}
    const orderRows = holds.orders.map((/** @type {any} */ o) => [h('strong', null, o.orderId), o.productId, o.reason ?? '–', o.heldBy ?? '–', formatTime(o.heldAt), h('button.ghost', { type: 'button', onclick: () => release(`/api/v1/orders/${enc(o.orderId)}/release-hold`, o.orderId) }, t('holds.release'))])
    const unitRows = holds.units.map((/** @type {any} */ u) => [h('strong', null, u.serial), u.orderId, u.reason ?? '–', isQuality ? h('button.ghost', { type: 'button', onclick: () => release(`/api/v1/units/${enc(u.serial)}/release-hold`, u.serial, u.serial) }, t('holds.release')) : ''])
    const ncRows = ncs.items.map((/** @type {any} */ n) => [
      n.id.slice(-8),
      n.orderId,
      String(n.opSeq),
      n.unitSerial ?? '–',
      n.reason,
      n.disposition ? `${tOr(`nc.${n.state}`, n.state)}: ${tOr(`nc.disp.${n.disposition}`, n.disposition)}` : tOr(`nc.${n.state}`, n.state),
      formatTime(n.openedAt),
      n.openedBy,
      isQuality && n.state === 'open' ? h('button.ghost', { type: 'button', 'data-nc': n.id, onclick: () => disposition(n) }, t('nc.disposition')) : '',
    ])
    fill(
      slot,
      h('section.card', null, orderRows.length ? table(t('holds.orders'), [t('wip.order'), t('wip.product'), t('holds.reason'), t('holds.by'), t('holds.at'), ''], orderRows) : h('p', null, h('strong', null, t('holds.orders')), ' ', t('holds.noneOrders'))),
      h('section.card', null, unitRows.length ? table(t('holds.units'), [t('holds.unit'), t('wip.order'), t('holds.reason'), ''], unitRows) : h('p', null, h('strong', null, t('holds.units')), ' ', t('holds.noneUnits'))),
      h('section.card', null, ncRows.length ? signatureRows(table(t('nc.title'), [t('nc.id'), t('wip.order'), t('nc.op'), t('holds.unit'), t('holds.reason'), t('nc.state'), t('holds.at'), t('holds.by'), ''], ncRows), ncs.items.map((/** @type {any} */ n) => `nonconformance/${n.id}`), signed) : h('p', null, h('strong', null, t('nc.title')), ' ', t('nc.none'))),
      signedSlot,
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
      const [back, fwd, built] = await Promise.all([
        ctx.api.get(`/api/v1/genealogy/backward?${q}`),
        ctx.api.get(`/api/v1/genealogy/forward?${q}`),
        // The record's signatures are shown with it (21 CFR 11.50(b)).
        ctx.api.optional(`/api/v1/as-built/${k === 'unit' ? 'units' : 'lots'}/${enc(value)}`).catch(() => null),
      ])
      refusal.clear()
      fill(
        out,
        h('h2', null, t('genealogy.of', { kind: t(`genealogy.${k}`), id: value })),
        k === 'unit' ? recordButtons(ctx, refusal, value) : null,
        built ? signatureList(built.signatures ?? []) : null,
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
