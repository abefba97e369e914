// The operator terminal of one work center: its state, its dispatch list, the chosen operation with its instructions, the run, the downtime prompt.
import { ApiError, enc } from '../api.js'
import { debounce, field, fill, h } from '../dom.js'
import { formatNumber, formatPercent, formatSince, t, tOr } from '../i18n.js'
import { scanField, setScanTarget } from '../scan.js'
import { noticeArea, refusalArea, stateBadge } from '../ui.js'
import { limitsText, runPanel } from './terminal-run.js'

const classifyPath = '/api/v1/work-centers/{id}/downtime/classify'

/** @param {HTMLElement} root @param {any} ctx */
async function pickWorkCenter(root, ctx) {
  const andon = await ctx.api.get('/api/v1/hmi/andon')
  fill(
    root,
    h(
      'section.card',
      { 'aria-labelledby': 'pick-title' },
      h('h1', { id: 'pick-title' }, t('terminal.pick')),
      h('ul.pick', null, andon.items.map((/** @type {any} */ wc) => h('li', null, h('a.button.big', { href: `#/terminal/${enc(wc.workCenterId)}` }, wc.name, ' ', stateBadge(wc.state))))),
    ),
  )
  return {}
}

/** @param {HTMLElement} root @param {any} ctx */
export async function mount(root, ctx) {
  const wcId = ctx.route.params[0] || localStorage.getItem('takt.workCenter')
  if (!wcId) return pickWorkCenter(root, ctx)
  if (!ctx.route.params[0]) {
    ctx.navigate(`#/terminal/${enc(wcId)}`)
    return {}
  }
  localStorage.setItem('takt.workCenter', wcId)

  const title = h('h1', { id: 'terminal-title' }, wcId)
  const stateSlot = h('span.wc-state')
  const oeeSlot = h('span.wc-oee', { 'aria-live': 'polite' })
  const downtimeSlot = h('div')
  const refusal = refusalArea()
  const notice = noticeArea()
  const dispatchList = h('ol.dispatch', { 'aria-labelledby': 'dispatch-title' })
  const work = h('div.work')
  fill(
    root,
    h(
      'section.terminal',
      { 'aria-labelledby': 'terminal-title', 'data-work-center': wcId },
      h('div.terminal-head', null, title, stateSlot, oeeSlot, h('a.change', { href: '#/terminal', onclick: () => localStorage.removeItem('takt.workCenter') }, t('terminal.change'))),
      downtimeSlot,
      refusal.slot,
      h('div.terminal-grid', null, h('section.card', { 'aria-labelledby': 'dispatch-title' }, h('h2', { id: 'dispatch-title' }, t('terminal.dispatch')), dispatchList), h('section.card.work-card', { 'aria-label': t('terminal.work') }, notice.slot, work)),
    ),
  )

  /** @type {{ orderId: string, opSeq: number } | null} */
  let selected = null
  /** @type {string | null} */
  let runId = null
  /** @type {{ state: string | null, since: string | null, runs: any[] } | null} */
  let wc = null
  let reasons = { stop: [], scrap: [] }
  let classifyGone = false
  // Read when needed: the gateway's capabilities may arrive after the view is drawn; until then, try.
  const classifyAvailable = () => !classifyGone && (ctx.capabilities.size === 0 || ctx.capabilities.has(classifyPath))
  let downtimeDismissed = ''

  function showState() {
    fill(stateSlot, stateBadge(wc?.state), wc?.since ? h('span.since', null, ` ${formatSince(wc.since)}`) : null)
    const stopKey = `${wc?.state}@${wc?.since}`
    if (wc?.state === 'down' && classifyAvailable() && downtimeDismissed !== stopKey) showDowntimePrompt(stopKey)
    else downtimeSlot.replaceChildren()
  }

  /** The machine stopped: ask why, right there, with big buttons. @param {string} stopKey */
  function showDowntimePrompt(stopKey) {
    const classify = async (/** @type {string} */ reason) => {
      try {
        await ctx.api.post(`/api/v1/work-centers/${enc(wcId)}/downtime/classify`, { from: wc?.since, reason })
        downtimeDismissed = stopKey
        downtimeSlot.replaceChildren()
        notice.show(t('downtime.classified', { reason: tOr(`reason.${reason}`, reason) }))
      } catch (error) {
        // The classification comes with the OEE work: on a gateway without it, the prompt goes away.
        if (error instanceof ApiError && error.status === 404 && error.code === 'route_not_found') {
          classifyGone = true
          downtimeSlot.replaceChildren()
        } else refusal.show(error)
      }
    }
    fill(
      downtimeSlot,
      h(
        'section.downtime',
        { 'aria-labelledby': 'downtime-title', role: 'region' },
        h('h2', { id: 'downtime-title' }, t('downtime.title')),
        h('p', null, t('downtime.ask')),
        h('div.reason-grid', null, reasons.stop.map((/** @type {any} */ r) => h('button.reason', { type: 'button', 'data-reason': r.code, onclick: () => classify(r.code) }, tOr(`reason.${r.code}`, r.name)))),
        h('button.ghost', { type: 'button', onclick: () => ((downtimeDismissed = stopKey), downtimeSlot.replaceChildren()) }, t('downtime.later')),
      ),
    )
  }

  /** The current shift's OEE, where the gateway computes it; nothing is shown where it does not (404) or has no shift now. */
  async function loadOee() {
    const res = await ctx.api.optional(`/api/v1/work-centers/${enc(wcId)}/oee/current`).catch(() => null)
    const oee = res?.oee?.oee
    fill(oeeSlot, typeof oee === 'number' ? t('terminal.oee', { oee: formatPercent(oee), shift: res.shift?.name ?? '' }) : null)
  }

  async function loadDispatch() {
    const list = await ctx.api.get(`/api/v1/work-centers/${enc(wcId)}/dispatch-list`)
    fill(
      dispatchList,
      list.items.length === 0 ? h('li.empty', null, t('terminal.nothing')) : null,
      list.items.map((/** @type {any} */ item) => {
        const isSelected = selected?.orderId === item.orderId && selected?.opSeq === item.opSeq
        return h(
          'li',
          { 'data-order': item.orderId, class: isSelected ? 'selected' : undefined },
          h('button.dispatch-item', { type: 'button', 'aria-pressed': isSelected ? 'true' : 'false', onclick: () => select(item.orderId, item.opSeq) },
            h('strong', null, item.orderId), ' ', h('span', null, `${item.opSeq} ${item.operation}`), h('br'),
            h('span.muted', null, `${item.productId} · ${t('terminal.progress', { good: formatNumber(item.qtyGood), qty: formatNumber(item.quantity) })} · ${tOr(`order.${item.orderState}`, item.orderState)}`)),
        )
      }),
    )
  }

  /** @param {string} orderId @param {number} opSeq */
  async function select(orderId, opSeq) {
    selected = { orderId, opSeq }
    runId = null
    // Until this operation's form is up, a scan is held for it, never given to the form of the one chosen before.
    setScanTarget(null)
    refusal.clear()
    await Promise.all([loadDispatch(), showOperation()])
  }

  async function showOperation() {
    if (!selected) {
      fill(work, h('p.hint-big', null, t('terminal.choose')))
      return
    }
    const order = await ctx.api.get(`/api/v1/orders/${enc(selected.orderId)}`)
    const op = order.operations.find((/** @type {any} */ o) => o.seq === selected?.opSeq)
    if (!op) return
    const unitField = field(t('terminal.unit'), { name: 'unit', maxlength: 128, list: 'units-list' })
    const qtyField = field(t('terminal.startQty'), { name: 'quantity', type: 'number', min: 1, step: 1, inputmode: 'numeric', value: Math.max(order.quantity - op.qtyStarted, 1) })
    const takeUnit = (/** @type {string} */ code) => {
      unitField.input.value = code
      void start()
    }
    const start = async () => {
      // A scan while the start is on its way is held for what comes next (the run's first lot), not taken as a second start.
      setScanTarget(null)
      try {
        const body = order.serialized ? { unit: unitField.input.value.trim(), workCenterId: wcId } : { quantity: Number(qtyField.input.value), workCenterId: wcId }
        const started = await ctx.api.post(`/api/v1/orders/${enc(order.id)}/operations/${op.seq}/start`, body)
        refusal.clear()
        notice.show(t('terminal.started'))
        runId = started.runId
        await showRun()
      } catch (error) {
        refusal.show(error)
        unitField.input.select()
        if (order.serialized) setScanTarget(takeUnit)
      }
    }
    if (order.serialized) {
      scanField(unitField.input, start)
      setScanTarget(takeUnit)
    }
    fill(
      work,
      h('h2', null, `${order.id} · ${op.seq} ${op.name}`),
      h('p.muted', null, `${order.productId} · ${t('terminal.progress', { good: formatNumber(op.qtyGood), qty: formatNumber(order.quantity) })}`),
      op.instructions ? h('div.instructions', null, h('h3', null, t('op.instructions')), h('p', null, op.instructions)) : null,
      h('h3', null, t('op.components')),
      op.components.length ? h('ul', null, op.components.map((/** @type {any} */ c) => h('li', null, t('op.componentLine', { material: c.materialId, qty: formatNumber(c.quantityPer, 4) })))) : h('p', null, t('run.noComponents')),
      h('h3', null, t('op.measurements')),
      op.measurements.length ? h('ul', null, op.measurements.map((/** @type {any} */ m) => h('li', null, `${m.name}: ${limitsText(m)}`))) : h('p', null, t('run.noMeasurements')),
      h('div.start-form', null, order.serialized ? unitField.wrap : qtyField.wrap, h('button.primary.big', { type: 'button', onclick: start }, t('terminal.start'))),
      h('datalist', { id: 'units-list' }, order.units.filter((/** @type {any} */ u) => u.state === 'in_process').map((/** @type {any} */ u) => h('option', { value: u.serial }))),
    )
    ;(order.serialized ? unitField.input : qtyField.input).focus()
  }

  async function showRun() {
    if (!runId) return showOperation()
    const detail = await ctx.api.get(`/api/v1/hmi/runs/${enc(runId)}`)
    if (detail.run.state === 'completed') {
      runId = null
      return showOperation()
    }
    selected = { orderId: detail.run.orderId, opSeq: detail.run.opSeq }
    const { panel, nextLotField } = runPanel(detail, {
      api: ctx.api,
      refusal,
      notice,
      scrapReasons: reasons.scrap,
      reload: showRun,
      done: (/** @type {any} */ result) => {
        notice.show(result.orderCompleted ? t('run.orderDone') : result.operationCompleted ? t('run.operationDone') : t('run.done'))
        runId = null
        void Promise.all([loadDispatch(), showOperation()])
      },
    })
    fill(work, panel)
    // A scan with no field focused goes to the first component still missing its lot.
    setScanTarget(
      nextLotField
        ? (code) => {
            nextLotField.value = code
            nextLotField.dispatchEvent(new KeyboardEvent('keydown', { key: 'Enter' }))
          }
        : null,
    )
    ;(nextLotField ?? panel.querySelector('input'))?.focus()
  }

  async function load() {
    // The dispatch list in the same round trip: it is what an operator taps first.
    const [andon, reasonCodes] = await Promise.all([ctx.api.get('/api/v1/hmi/andon'), ctx.api.get('/api/v1/hmi/reason-codes'), loadDispatch()])
    reasons = reasonCodes
    wc = andon.items.find((/** @type {any} */ w) => w.workCenterId === wcId) ?? null
    fill(title, wc ? /** @type {any} */ (wc).name : wcId)
    // An open run here (after a reload, or a terminal swap): mine first, then any.
    const open = wc?.runs ?? []
    const mine = open.find((r) => r.operatorId === ctx.session.personId && r.state === 'running') ?? open.find((r) => r.operatorId === ctx.session.personId) ?? open[0]
    if (mine && !runId) runId = mine.runId
    showState()
    void loadOee()
    await showRun()
  }

  async function refreshState() {
    const andon = await ctx.api.get('/api/v1/hmi/andon').catch(() => null)
    const fresh = andon?.items.find((/** @type {any} */ w) => w.workCenterId === wcId)
    if (fresh && fresh.state === wc?.state) {
      wc = fresh
      showState()
    }
  }

  const refreshDispatch = debounce(() => void loadDispatch().catch(() => {}), 250)
  const refreshOee = debounce(() => void loadOee(), 2000)
  try {
    await load()
  } catch (error) {
    refusal.show(error)
  }
  return {
    /** @param {import('../live.js').LiveEvent} event */
    onLive(event) {
      if (event.type === 'WorkCenterStateChanged' && event.workCenterId === wcId) {
        // The state shows at once; its start time (when the stop began, for the classification) comes from the andon.
        wc = { ...(wc ?? { runs: [] }), state: event.state ?? null, since: event.at }
        showState()
        void refreshState()
        refreshOee()
        return
      }
      // The terminal's own run is redrawn after each of its actions; a redraw from here would wipe what the operator is typing.
      if (event.orderId || event.type === 'DispatchResequenced') refreshDispatch()
      if (event.workCenterId === wcId) refreshOee()
    },
    refresh: () => void load().catch((/** @type {unknown} */ e) => refusal.show(e)),
    unmount: () => setScanTarget(null),
  }
}
