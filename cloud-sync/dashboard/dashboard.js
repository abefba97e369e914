// The central dashboard: every line's WIP and OEE, each gateway's connection, genealogy across lines. Plain DOM, one fetch loop that never overlaps.
const tokenKey = 'takt.central.token'
const refreshMs = 5000
const requestTimeoutMs = 15000

const $ = (id) => document.getElementById(id)
const percent = (v) => (v === null || v === undefined ? '—' : `${(v * 100).toFixed(1)} %`)
const number = (v) => new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 }).format(v)

let token = sessionStorage.getItem(tokenKey)
let loop = null

class Refused extends Error {
  constructor(status, detail) {
    super(detail)
    this.status = status
  }
}

/** One API call with the token; a problem+json answer becomes an error with its detail. */
async function api(path) {
  const controller = new AbortController()
  const timer = setTimeout(() => controller.abort(), requestTimeoutMs)
  try {
    const res = await fetch(path, { headers: { authorization: `Bearer ${token}` }, signal: controller.signal, cache: 'no-store' })
    const body = await res.json().catch(() => ({}))
    if (!res.ok) throw new Refused(res.status, body.detail ?? `${res.status} ${res.statusText}`)
    return body
  } finally {
    clearTimeout(timer)
  }
}

function cell(row, text, className) {
  const td = document.createElement('td')
  td.textContent = text
  if (className) td.className = className
  row.append(td)
  return td
}

function fill(tbody, rows, columns, empty) {
  tbody.replaceChildren()
  if (rows.length === 0) {
    const tr = tbody.insertRow()
    cell(tr, empty, 'empty').colSpan = columns
    return
  }
  for (const r of rows) tbody.append(r)
}

function renderGateways(status) {
  $('backlog-note').textContent = status.backlogKnown ? 'Backlog: events recorded on the gateway and not yet here, as of its last push.' : 'Backlog: known once a gateway has pushed; each gateway also shows its own under Connectivity.'
  const rows = status.gateways.map((g) => {
    const tr = document.createElement('tr')
    cell(tr, g.id)
    cell(tr, g.lineId ?? '—')
    const badge = document.createElement('span')
    badge.className = `state state-${g.connection}`
    badge.textContent = g.connection
    cell(tr, '').append(badge)
    cell(tr, g.lastPushAt === null ? 'never' : `${new Date(g.lastPushAt).toLocaleString()} (${Math.round(g.lastPushAgeMs / 1000)} s ago)`)
    cell(tr, String(g.headSeq), 'num')
    cell(tr, g.backlog === null ? 'not known yet' : `${g.backlog} (${Math.round(g.backlogAgeMs / 1000)} s ago)`, g.backlog === null ? 'empty' : 'num')
    return tr
  })
  fill($('gateways').tBodies[0], rows, 6, 'No gateway is registered.')
}

function renderWip(wip) {
  const rows = wip.lines.map((l) => {
    const tr = document.createElement('tr')
    cell(tr, l.lineId)
    cell(tr, l.gatewayId)
    cell(tr, String(l.openOrders), 'num')
    cell(tr, number(l.openQuantity), 'num')
    cell(tr, Object.entries(l.byState).map(([state, n]) => `${state.replace('_', ' ')}: ${n}`).join(', '))
    return tr
  })
  fill($('wip').tBodies[0], rows, 5, 'No orders yet.')
}

function oeeRow(label, x, className) {
  const tr = document.createElement('tr')
  tr.className = className
  cell(tr, label)
  for (const v of [x.availability, x.performance, x.quality, x.oee]) cell(tr, percent(v), 'num')
  cell(tr, `${number(x.counts.good)} / ${number(x.counts.total)}`, 'num')
  return tr
}

function renderOee(oee) {
  const rows = []
  for (const l of oee.lines) {
    rows.push(oeeRow(`${l.lineId ?? l.gatewayId} (${l.gatewayId})`, l, 'line-row'))
    for (const w of l.workCenters) rows.push(oeeRow(w.workCenterId, w, 'wc-row'))
  }
  fill($('oee').tBodies[0], rows, 6, 'No machine data yet.')
}

function oeePath() {
  const to = new Date()
  const from = new Date(to.getTime() - Number($('oee-range').value) * 3_600_000)
  return `/api/v1/oee?from=${encodeURIComponent(from.toISOString())}&to=${encodeURIComponent(to.toISOString())}`
}

function showProblem(text) {
  const banner = $('problem')
  banner.textContent = text ?? ''
  banner.hidden = !text
}

/** One round of every view, in parallel; the next round starts only after this one ends. */
async function refresh() {
  const [status, wip, oee] = await Promise.all([api('/api/v1/gateways/status'), api('/api/v1/wip'), api(oeePath())])
  renderGateways(status)
  renderWip(wip)
  renderOee(oee)
  $('updated').textContent = `Updated ${new Date().toLocaleTimeString()}`
}

function startLoop() {
  const run = { stopped: false, wake: null }
  loop = run
  ;(async () => {
    while (!run.stopped) {
      try {
        await refresh()
        showProblem(null)
      } catch (error) {
        if (error instanceof Refused && (error.status === 401 || error.status === 403)) {
          logout(`The token was refused: ${error.message}`)
          return
        }
        showProblem(`The cloud did not answer: ${error.message}. Retrying.`)
      }
      await new Promise((resolve) => {
        run.wake = resolve
        setTimeout(resolve, refreshMs)
      })
    }
  })()
}

function stopLoop() {
  if (!loop) return
  loop.stopped = true
  loop.wake?.()
  loop = null
}

function showViews(loggedIn) {
  $('login').hidden = loggedIn
  $('views').hidden = !loggedIn
  $('logout').hidden = !loggedIn
}

function logout(message) {
  stopLoop()
  token = null
  sessionStorage.removeItem(tokenKey)
  showViews(false)
  showProblem(null)
  $('updated').textContent = ''
  const error = $('login-error')
  error.textContent = message ?? ''
  error.hidden = !message
  $('token').focus()
}

async function login(candidate) {
  token = candidate
  try {
    await api('/api/v1/gateways/status')
  } catch (error) {
    token = null
    const error$ = $('login-error')
    error$.textContent = error instanceof Refused && (error.status === 401 || error.status === 403) ? 'This is not an admin token of this cloud.' : `The cloud did not answer: ${error.message}`
    error$.hidden = false
    return
  }
  sessionStorage.setItem(tokenKey, candidate)
  $('login-error').hidden = true
  $('token').value = ''
  showViews(true)
  startLoop()
}

function renderTrace(trace) {
  const out = $('trace')
  out.replaceChildren()
  const head = document.createElement('p')
  head.className = 'trace-lines'
  head.textContent = `${trace.direction === 'forward' ? 'Forward' : 'Backward'} from ${trace.start.kind} ${trace.start.id}: ${trace.links.length} step(s) across ${trace.lines.length ? trace.lines.join(', ') : 'no line'}`
  out.append(head)
  if (trace.links.length === 0) {
    const p = document.createElement('p')
    p.className = 'empty'
    p.textContent = 'Nothing recorded for it.'
    out.append(p)
    return
  }
  const table = document.createElement('table')
  table.id = 'trace-table'
  const header = table.createTHead().insertRow()
  for (const h of ['Depth', 'Consumed', 'Into', 'Material', 'Quantity', 'Line', 'Order', 'When']) {
    const th = document.createElement('th')
    th.scope = 'col'
    th.textContent = h
    header.append(th)
  }
  const body = table.createTBody()
  for (const l of trace.links) {
    const tr = body.insertRow()
    cell(tr, String(l.depth), 'num')
    cell(tr, `${l.consumedKind} ${l.consumedId}`)
    cell(tr, `${l.producedKind} ${l.producedId}`)
    cell(tr, l.materialId)
    cell(tr, number(l.quantity), 'num')
    cell(tr, `${l.lineId ?? '—'} (${l.gatewayId})`)
    cell(tr, l.orderId)
    cell(tr, new Date(l.at).toLocaleString())
  }
  out.append(table)
}

$('login-form').addEventListener('submit', (e) => {
  e.preventDefault()
  login($('token').value.trim())
})
$('logout').addEventListener('click', () => logout())
$('oee-range').addEventListener('change', () => loop?.wake?.())
$('trace-form').addEventListener('submit', async (e) => {
  e.preventDefault()
  const kind = $('trace-kind').value
  const id = $('trace-id').value.trim()
  const direction = $('trace-direction').value
  try {
    renderTrace(await api(`/api/v1/genealogy/trace?${kind}=${encodeURIComponent(id)}&direction=${direction}`))
  } catch (error) {
    const p = document.createElement('p')
    p.className = 'error'
    p.setAttribute('role', 'alert')
    p.textContent = `The trace failed: ${error.message}`
    $('trace').replaceChildren(p)
  }
})

if (token) {
  showViews(true)
  startLoop()
} else showViews(false)
