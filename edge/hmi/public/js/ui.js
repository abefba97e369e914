// Pieces every view uses: the big refusal box, short notices, a work center's state badge, the reason dialog.
import { ApiError, LinkError } from './api.js'
import { h, fill } from './dom.js'
import { t, tOr } from './i18n.js'

/** Machine states and the andon colour class each gets; the text is always shown too, never colour alone. */
export const stateClass = /** @type {Record<string, string>} */ ({
  running: 'st-running',
  idle: 'st-idle',
  setup: 'st-setup',
  planned_stop: 'st-planned',
  down: 'st-down',
  starved: 'st-flow',
  blocked: 'st-flow',
})

/** @param {string | null | undefined} state */
export function stateBadge(state) {
  const s = state ?? 'unknown'
  return h(`span.state.${stateClass[s] ?? 'st-unknown'}`, { 'data-state': s }, tOr(`state.${s}`, s))
}

/**
 * A slot for refusals: big, red, read out at once, with the gateway's own sentence (problem+json `detail`).
 * @param {HTMLElement} [slot]
 */
export function refusalArea(slot = h('div')) {
  slot.classList.add('refusal-slot')
  const clear = () => slot.replaceChildren()
  /** @param {unknown} error */
  const show = (error) => {
    const code = error instanceof ApiError ? error.code : error instanceof LinkError ? 'link_down' : 'internal'
    const detail = error instanceof ApiError ? error.detail : error instanceof LinkError ? t('link.down') : String(error)
    fill(
      slot,
      h(
        'div.refusal',
        { role: 'alert', 'data-code': code },
        h('p.refusal-title', null, tOr(`problem.${code}`, t('problem.generic'))),
        h('p.refusal-detail', null, detail),
        h('button.ghost', { type: 'button', onclick: clear }, t('app.ok')),
      ),
    )
  }
  return { slot, show, clear }
}

/** A short confirmation ("Lot booked"), read out politely, gone after a while. @param {HTMLElement} [slot] */
export function noticeArea(slot = h('div')) {
  slot.setAttribute('role', 'status')
  slot.setAttribute('aria-live', 'polite')
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer
  /** @param {string} text */
  const show = (text) => {
    clearTimeout(timer)
    fill(slot, h('p.notice', null, text))
    timer = setTimeout(() => slot.replaceChildren(), 6000)
  }
  return { slot, show }
}

/**
 * Asks for a reason (hold, release, pause) in the page's one dialog. Resolves with the text, or null when cancelled.
 * @param {string} title @param {string} label @param {string} [value]
 * @returns {Promise<string | null>}
 */
export function askReason(title, label, value = '') {
  const dialog = /** @type {HTMLDialogElement} */ (document.getElementById('ask'))
  const input = /** @type {HTMLInputElement} */ (document.getElementById('ask-input'))
  const form = /** @type {HTMLFormElement} */ (document.getElementById('ask-form'))
  const cancel = /** @type {HTMLButtonElement} */ (document.getElementById('ask-cancel'))
  fill(/** @type {HTMLElement} */ (document.getElementById('ask-title')), title)
  fill(/** @type {HTMLElement} */ (document.getElementById('ask-label')), label)
  input.value = value
  return new Promise((resolve) => {
    const done = (/** @type {string | null} */ answer) => {
      form.removeEventListener('submit', submit)
      cancel.removeEventListener('click', abort)
      dialog.removeEventListener('cancel', abort)
      if (dialog.open) dialog.close()
      resolve(answer)
    }
    const submit = (/** @type {Event} */ e) => {
      e.preventDefault()
      const text = input.value.trim()
      if (text) done(text)
    }
    const abort = () => done(null)
    form.addEventListener('submit', submit)
    cancel.addEventListener('click', abort)
    dialog.addEventListener('cancel', abort)
    dialog.showModal()
    input.focus()
    input.select()
  })
}

/** A labelled progress bar with its figure as text. @param {number} share 0 … 1 @param {string} label */
export function progressBar(share, label) {
  const pct = Math.round(Math.max(0, Math.min(1, share)) * 100)
  return h('div.progress', null, h('progress', { max: 100, value: pct, 'aria-label': label }), h('span', null, `${pct} %`))
}

/** A table with a caption and a header row; rows are arrays of cells. @param {string} caption @param {string[]} head @param {Array<Array<Node | string>>} rows */
export function table(caption, head, rows) {
  return h(
    'table',
    null,
    h('caption', null, caption),
    h('thead', null, h('tr', null, head.map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', null, rows.map((r) => h('tr', null, r.map((c) => h('td', null, c))))),
  )
}

/** Sub-navigation inside a view (tabs as links, so each has its own address). @param {string} label @param {Array<[string, string]>} tabs href and text @param {string} active */
export function subnav(label, tabs, active) {
  return h(
    'nav.subnav',
    { 'aria-label': label },
    tabs.map(([href, text]) => h('a', { href, 'aria-current': href === active ? 'page' : undefined }, text)),
  )
}
