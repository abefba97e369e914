// The line lead's board: andon of every work center, WIP with progress and estimated completion, hold and release, closing completed orders, each order's signatures, resequencing, and the OEE and trend tabs.
import { ApiError, enc } from '../api.js'
import { debounce, fill, h } from '../dom.js'
import { formatNumber, formatSince, formatTime, t, tOr } from '../i18n.js'
import { hasRole } from '../session.js'
import { signDialog, signatureRows, signaturesOf } from '../signing.js'
import { askReason, noticeArea, progressBar, refusalArea, stateBadge, subnav, table } from '../ui.js'
import { oeeTab } from './board-oee.js'
import { trendsTab } from './board-trends.js'

/** @param {any} item */
function andonTile(item) {
  return h(
    'li.tile',
    { 'data-work-center': item.workCenterId, 'data-state': item.state ?? 'unknown' },
    h('h3', null, item.name),
    stateBadge(item.state),
    h('p.muted', null, item.since ? formatSince(item.since) : t('andon.noState')),
    item.runs.length ? h('p', null, item.runs.map((/** @type {any} */ r) => `${r.orderId} · ${r.opSeq} (${r.operatorId}${r.state === 'paused' ? `, ${t('run.paused')}` : ''})`).join('; ')) : h('p.muted', null, t('andon.noRun')),
  )
}

/** @param {any[]} items @param {Record<string, any[]>} signed @param {any} ctx @param {{ show(e: unknown): void, clear(): void }} refusal @param {{ show(text: string): void }} notice @param {() => void} reload */
function wipTable(items, signed, ctx, refusal, notice, reload) {
  const lead = hasRole(ctx.session, 'lead')
  /** @param {string} orderId @param {'hold' | 'release-hold'} action */
  const act = async (orderId, action) => {
    const reason = await askReason(t(action === 'hold' ? 'wip.holdTitle' : 'wip.releaseTitle', { order: orderId }), t('wip.reason'))
    if (!reason) return
    try {
      await ctx.api.post(`/api/v1/orders/${enc(orderId)}/${action}`, { reason })
      refusal.clear()
      notice.show(t(action === 'hold' ? 'wip.held' : 'wip.released', { order: orderId }))
      reload()
    } catch (error) {
      refusal.show(error)
    }
  }
  const rows = items.map((/** @type {any} */ w) => [
    h('strong', { 'data-order': w.orderId }, w.orderId),
    w.productId,
    h('span', { class: `order-state os-${w.state}` }, tOr(`order.${w.state}`, w.state)),
    w.workCenterId ? `${w.workCenterId} · ${w.opSeq} ${w.operation ?? ''}` : '–',
    progressBar(w.progress, t('wip.progressOf', { order: w.orderId })),
    `${formatNumber(w.done)} / ${formatNumber(w.quantity)}${w.scrap ? ` (${t('wip.scrap', { n: formatNumber(w.scrap) })})` : ''}`,
    formatTime(w.estimatedCompletionAt),
    h('span', { class: w.late ? 'late' : undefined }, formatTime(w.dueAt), w.late ? ` ${t('wip.late')}` : ''),
    !lead
      ? ''
      : w.state === 'held'
        ? h('button.ghost', { type: 'button', onclick: () => act(w.orderId, 'release-hold') }, t('wip.release'))
        : ['released', 'dispatched', 'in_progress'].includes(w.state)
          ? h('button.ghost', { type: 'button', onclick: () => act(w.orderId, 'hold') }, t('wip.hold'))
          : '',
  ])
  const head = ['wip.order', 'wip.product', 'wip.state', 'wip.where', 'wip.progress', 'wip.done', 'wip.eta', 'wip.due', 'wip.action'].map((k) => t(k))
  return items.length ? h('div.table-wrap', null, signatureRows(table(t('wip.title'), head, rows), items.map((w) => `order/${w.orderId}`), signed)) : h('p', null, t('wip.none'))
}

/** How many closed orders the board keeps in view, newest first. */
const closedShown = 20

/**
 * Completed orders, which a lead closes (signed where the line requires it: `order-close`), and the
 * latest closed ones, each with its signatures.
 * @param {any[]} completed @param {any[]} closed @param {Record<string, any[]>} signed @param {any} ctx @param {any} refusal @param {any} notice @param {() => void} reload
 */
function finishedTable(completed, closed, signed, ctx, refusal, notice, reload) {
  const lead = hasRole(ctx.session, 'lead')
  /** @param {string} orderId */
  const close = async (orderId) => {
    const path = `/api/v1/orders/${enc(orderId)}/close`
    try {
      await ctx.api.post(path)
      notice.show(t('finished.closed', { order: orderId }))
    } catch (error) {
      if (!(error instanceof ApiError && error.code === 'signature_required')) return refusal.show(error)
      const answer = await signDialog({ title: t('sign.title', { what: t('finished.closeWhat', { order: orderId }) }), session: ctx.session, attempt: (signature) => ctx.api.post(path, { signature }) })
      if (!answer) return
      notice.show(t('finished.closedSigned', { order: orderId }))
    }
    refusal.clear()
    reload()
  }
  const items = [...completed, ...closed]
  if (!items.length) return h('p', null, h('strong', null, t('finished.title')), ' ', t('finished.none'))
  const rows = items.map((/** @type {any} */ o) => [
    h('strong', { 'data-order': o.id }, o.id),
    o.productId,
    h('span', { class: `order-state os-${o.state}` }, tOr(`order.${o.state}`, o.state)),
    formatNumber(o.quantity),
    formatTime(o.dueAt),
    lead && o.state === 'completed' ? h('button.ghost', { type: 'button', 'data-close': o.id, onclick: () => close(o.id) }, t('finished.close')) : '',
  ])
  const head = ['wip.order', 'wip.product', 'wip.state', 'finished.quantity', 'wip.due', 'wip.action'].map((k) => t(k))
  return h('div.table-wrap', null, signatureRows(table(t('finished.title'), head, rows), items.map((o) => `order/${o.id}`), signed))
}

/** The dispatch list of one work center, moved with up and down buttons (works by touch and by keyboard), saved at once as one resequence. */
function dispatchTab(/** @type {HTMLElement} */ slot, /** @type {any} */ ctx, /** @type {any[]} */ workCenters, refusal, notice) {
  const wcId = ctx.route.params[1] || workCenters[0]?.workCenterId
  /** @type {any[]} */
  let items = []
  let dirty = false
  const list = h('ol.resequence', { 'aria-label': t('dispatch.listOf', { wc: wcId }) })
  const save = h('button.primary', { type: 'button', disabled: true }, t('dispatch.save'))
  const undo = h('button.ghost', { type: 'button', disabled: true }, t('dispatch.undo'))
  const draw = () => {
    save.toggleAttribute('disabled', !dirty)
    undo.toggleAttribute('disabled', !dirty)
    fill(
      list,
      items.length === 0 ? h('li.empty', null, t('terminal.nothing')) : null,
      items.map((item, i) =>
        h(
          'li',
          { 'data-order': item.orderId },
          h('span.pos', null, `${i + 1}.`),
          h('span.what', null, h('strong', null, item.orderId), ` ${item.opSeq} ${item.operation} · ${item.productId} · ${tOr(`order.${item.orderState}`, item.orderState)}`),
          h('button.icon', { type: 'button', 'aria-label': t('dispatch.up', { order: item.orderId }), disabled: i === 0, onclick: () => move(i, -1) }, '▲'),
          h('button.icon', { type: 'button', 'aria-label': t('dispatch.down', { order: item.orderId }), disabled: i === items.length - 1, onclick: () => move(i, 1) }, '▼'),
        ),
      ),
    )
  }
  /** @param {number} i @param {number} by */
  const move = (i, by) => {
    const [item] = items.splice(i, 1)
    items.splice(i + by, 0, item)
    dirty = true
    draw()
    // The focus follows the moved order, so that a keyboard user can keep moving it.
    const button = /** @type {HTMLElement | null} */ (list.querySelectorAll('li')[i + by]?.querySelector(`button[aria-label="${CSS.escape(t(by < 0 ? 'dispatch.up' : 'dispatch.down', { order: item.orderId }))}"]`))
    button?.focus()
  }
  const load = async () => {
    const res = await ctx.api.get(`/api/v1/work-centers/${enc(wcId)}/dispatch-list`)
    // One row per order: the lead sequences orders, the routing sequences their operations.
    const seen = new Set()
    items = res.items.filter((/** @type {any} */ x) => !seen.has(x.orderId) && seen.add(x.orderId))
    dirty = false
    draw()
  }
  save.addEventListener('click', async () => {
    try {
      await ctx.api.put(`/api/v1/work-centers/${enc(wcId)}/dispatch-list`, { orderIds: items.map((x) => x.orderId) })
      refusal.clear()
      notice.show(t('dispatch.saved'))
      await load()
    } catch (error) {
      refusal.show(error)
    }
  })
  undo.addEventListener('click', () => void load())
  fill(
    slot,
    h('nav.chips', { 'aria-label': t('dispatch.workCenters') }, workCenters.map((w) => h('a', { href: `#/board/dispatch/${enc(w.workCenterId)}`, 'aria-current': w.workCenterId === wcId ? 'page' : undefined }, w.name))),
    h('h2', null, t('dispatch.title', { wc: workCenters.find((w) => w.workCenterId === wcId)?.name ?? wcId })),
    list,
    h('div.row', null, undo, save),
  )
  return { load, refresh: () => (dirty ? undefined : void load()) }
}

/** @param {HTMLElement} root @param {any} ctx */
export async function mount(root, ctx) {
  const tab = ctx.route.params[0] || 'wip'
  const refusal = refusalArea()
  const notice = noticeArea()
  const andon = h('ul.andon', { 'aria-label': t('andon.title') })
  const body = h('div.board-body')
  fill(
    root,
    h(
      'section.board',
      { 'aria-labelledby': 'board-title' },
      h('h1', { id: 'board-title', class: 'visually-hidden' }, t('nav.board')),
      h('h2.strip-title', null, t('andon.title')),
      andon,
      subnav(t('board.tabs'), [['#/board/wip', t('board.wip')], ['#/board/dispatch', t('board.dispatch')], ['#/board/oee', t('board.oee')], ['#/board/trends', t('board.trends')]], `#/board/${tab}`),
      refusal.slot,
      notice.slot,
      body,
    ),
  )
  /** @type {any[]} */
  let workCenters = []
  const loadAndon = async () => {
    const res = await ctx.api.get('/api/v1/hmi/andon')
    workCenters = res.items
    fill(andon, res.items.map(andonTile))
  }
  const loadWip = async () => {
    const [res, completed, closed] = await Promise.all([ctx.api.get('/api/v1/wip'), ctx.api.get('/api/v1/orders?state=completed&limit=200'), ctx.api.get('/api/v1/orders?state=closed')])
    // The orders list is sorted by priority and due date: the newest closed ones are picked here.
    const latestClosed = closed.items.sort((/** @type {any} */ a, /** @type {any} */ b) => String(b.updatedAt).localeCompare(String(a.updatedAt))).slice(0, closedShown)
    const ids = [...res.items.map((/** @type {any} */ w) => w.orderId), ...completed.items.map((/** @type {any} */ o) => o.id), ...latestClosed.map((/** @type {any} */ o) => o.id)]
    // The records are shown even when their signatures cannot be read; a refusal says why.
    const signed = await signaturesOf(ctx.api, ids.map((id) => `order/${id}`)).catch((e) => (refusal.show(e), {}))
    const reload = () => void loadWip()
    fill(body, wipTable(res.items, signed, ctx, refusal, notice, reload), h('section.card', { 'data-finished': '' }, finishedTable(completed.items, latestClosed, signed, ctx, refusal, notice, reload)))
  }
  await loadAndon().catch((e) => refusal.show(e))
  /** @type {{ refresh(): void, destroy?(): void } | null} */
  let current = null
  if (tab === 'wip') await loadWip().catch((e) => refusal.show(e))
  else if (tab === 'dispatch') {
    const d = dispatchTab(body, ctx, workCenters, refusal, notice)
    current = d
    await d.load().catch((e) => refusal.show(e))
  } else if (tab === 'oee') current = await oeeTab(body, ctx, workCenters)
  else if (tab === 'trends') current = await trendsTab(body, ctx)

  const refreshAndon = debounce(() => void loadAndon().catch(() => {}), 200)
  const refreshBody = debounce(() => (tab === 'wip' ? void loadWip().catch(() => {}) : current?.refresh()), 300)
  return {
    /** @param {import('../live.js').LiveEvent} event */
    onLive(event) {
      if (event.workCenterId || event.runId || event.type.startsWith('Operation')) refreshAndon()
      // Samples are not events: a trend is redrawn when asked for, not on every order change.
      if (tab !== 'trends' && (event.orderId || event.type === 'DispatchResequenced' || event.type === 'WorkCenterStateChanged')) refreshBody()
    },
    refresh() {
      refreshAndon()
      refreshBody()
    },
    unmount: () => current?.destroy?.(),
  }
}
