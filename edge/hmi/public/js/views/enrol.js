// Terminal enrolment (21 CFR 11.10(h)): an administrator registers this browser as a terminal; the secret the gateway issues goes straight into this browser's storage, never onto the screen.
import { enrolledTerminal, saveTerminal } from '../api.js'
import { field, fill, h } from '../dom.js'
import { t } from '../i18n.js'
import { noticeArea, refusalArea } from '../ui.js'

/** @param {HTMLElement} root @param {any} ctx */
export function mount(root, ctx) {
  const refusal = refusalArea()
  const notice = noticeArea()
  const state = h('p.enrolled', { 'aria-live': 'polite' })
  const id = field(t('enrol.id'), { name: 'terminal-id', required: true, maxlength: 128, pattern: '[A-Za-z0-9][A-Za-z0-9._:\\-/]*' })
  const name = field(t('enrol.name'), { name: 'terminal-name', required: true, maxlength: 200 })
  const location = field(t('enrol.location'), { name: 'terminal-location', required: true, maxlength: 200 })
  const forget = h('button.ghost', { type: 'button' }, t('enrol.forget'))
  const show = () => {
    const current = enrolledTerminal()
    fill(state, current ? t('enrol.current', { id: current.id }) : t('enrol.none'))
    forget.hidden = !current
  }
  forget.addEventListener('click', () => {
    saveTerminal(null)
    notice.show(t('enrol.forgotten'))
    show()
  })
  const form = h(
    'form.card',
    {
      onsubmit: async (/** @type {Event} */ e) => {
        e.preventDefault()
        const terminalId = id.input.value.trim()
        try {
          // A new secret each time: enrolling again (a replaced PC) shuts the old one out.
          const answer = await ctx.api.put(`/api/v1/terminals/${encodeURIComponent(terminalId)}`, { name: name.input.value.trim(), location: location.input.value.trim(), rotateSecret: true })
          saveTerminal({ id: answer.id, secret: answer.secret })
          refusal.clear()
          notice.show(t('enrol.done', { id: answer.id }))
          show()
        } catch (error) {
          refusal.show(error)
        }
      },
    },
    h('h2', null, t('enrol.register')),
    id.wrap,
    name.wrap,
    location.wrap,
    h('button.primary', { type: 'submit' }, t('enrol.submit')),
  )
  fill(root, h('section.enrol', { 'aria-labelledby': 'enrol-title' }, h('h1', { id: 'enrol-title' }, t('enrol.title')), state, forget, refusal.slot, notice.slot, form))
  show()
  return {}
}
