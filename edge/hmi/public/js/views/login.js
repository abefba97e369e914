// The login page: badge and PIN for operators (scan the badge, type the PIN on the keypad), user and password for everyone else, and a new password where the old one expired or an administrator set it.
import { ApiError, saveTerminal } from '../api.js'
import { field, fill, h } from '../dom.js'
import { formatTime, t, tOr } from '../i18n.js'
import { scanField, setScanTarget } from '../scan.js'

/** @param {HTMLElement} root @param {any} ctx */
export function mount(root, ctx) {
  const mode = ctx.route.params[0] === 'password' ? 'password' : 'badge'
  const error = h('div', { class: 'login-error', role: 'alert' })
  const say = (/** @type {string} */ text) => fill(error, text ? h('p', null, text) : null)

  /** @param {unknown} e */
  function failed(e) {
    if (e instanceof ApiError && e.code === 'badge_locked') say(t('login.badge_locked', { until: formatTime(/** @type {string} */ (e.body.lockedUntil)) }))
    else if (e instanceof ApiError && e.code === 'account_locked') say(t('login.account_locked', { until: formatTime(/** @type {string} */ (e.body.lockedUntil)) }))
    else if (e instanceof ApiError && (e.code === 'terminal_unverified' || e.code === 'terminal_unknown')) {
      // A terminal whose enrolment no longer holds (retired, or enrolled again elsewhere): it can only be forgotten here, then enrolled again.
      fill(error, h('p', null, e.detail), h('button.ghost', { type: 'button', onclick: () => (saveTerminal(null), say(t('enrol.forgotten'))) }, t('enrol.forget')))
    }
    else if (e instanceof ApiError) say(tOr(`login.${e.code}`, e.detail))
    else say(t('link.down'))
  }

  const badge = field(t('login.badge'), { name: 'badge', required: true, maxlength: 128 })
  const pin = field(t('login.pin'), { name: 'pin', type: 'password', inputmode: 'numeric', autocomplete: 'off', required: true, maxlength: 12 })
  scanField(badge.input, () => pin.input.focus())
  // A badge scanned while nothing is focused lands in the badge field.
  setScanTarget((code) => {
    badge.input.value = code
    pin.input.focus()
  })
  const keypad = h(
    'div.keypad',
    { role: 'group', 'aria-label': t('login.keypad') },
    ['1', '2', '3', '4', '5', '6', '7', '8', '9', 'clear', '0', 'back'].map((k) =>
      h(
        'button.key',
        {
          type: 'button',
          'aria-label': k === 'clear' ? t('login.clear') : k === 'back' ? t('login.back') : k,
          onclick: () => {
            pin.input.value = k === 'clear' ? '' : k === 'back' ? pin.input.value.slice(0, -1) : pin.input.value + k
            pin.input.focus()
          },
        },
        k === 'clear' ? 'C' : k === 'back' ? '⌫' : k,
      ),
    ),
  )
  const badgeForm = h(
    'form.card.login-form',
    {
      'aria-labelledby': 'login-badge-title',
      onsubmit: async (/** @type {Event} */ e) => {
        e.preventDefault()
        say('')
        try {
          const session = await ctx.api.request('POST', '/api/v1/auth/badge', { badgeId: badge.input.value.trim(), pin: pin.input.value }, { anonymous: true })
          await ctx.onLogin(session, 'badge')
        } catch (err) {
          pin.input.value = ''
          failed(err)
        }
      },
    },
    h('h2', { id: 'login-badge-title' }, t('login.withBadge')),
    badge.wrap,
    pin.wrap,
    keypad,
    h('button.primary.big', { type: 'submit' }, t('login.submit')),
  )

  const user = field(t('login.user'), { name: 'username', autocomplete: 'username', required: true, maxlength: 128 })
  const password = field(t('login.password'), { name: 'password', type: 'password', autocomplete: 'current-password', required: true, maxlength: 200 })
  const passwordForm = h(
    'form.card.login-form',
    {
      'aria-labelledby': 'login-password-title',
      onsubmit: async (/** @type {Event} */ e) => {
        e.preventDefault()
        say('')
        const username = user.input.value.trim()
        const current = password.input.value
        try {
          const session = await ctx.api.request('POST', '/api/v1/auth/login', { username, password: current }, { anonymous: true })
          await ctx.onLogin(session, 'password')
        } catch (err) {
          password.input.value = ''
          if (err instanceof ApiError && err.code === 'password_change_required') changePassword(username, current, err.detail)
          else failed(err)
        }
      },
    },
    h('h2', { id: 'login-password-title' }, t('login.withPassword')),
    user.wrap,
    password.wrap,
    h('button.primary.big', { type: 'submit' }, t('login.submit')),
  )

  /**
   * The password expired or an administrator set it (21 CFR 11.300(b)): the person chooses a new one,
   * sent with the current one in the same login. The current one is kept only in this closure.
   * @param {string} username @param {string} current @param {string} why the gateway's reason (its words name the cause)
   */
  function changePassword(username, current, why) {
    say('')
    const next = field(t('login.newPassword'), { name: 'new-password', type: 'password', autocomplete: 'new-password', required: true, maxlength: 200 })
    const again = field(t('login.repeatPassword'), { name: 'repeat-password', type: 'password', autocomplete: 'new-password', required: true, maxlength: 200 })
    const form = h(
      'form.card.login-form',
      {
        'aria-labelledby': 'login-change-title',
        onsubmit: async (/** @type {Event} */ e) => {
          e.preventDefault()
          say('')
          if (next.input.value !== again.input.value) {
            again.input.value = ''
            say(t('login.mismatch'))
            again.input.focus()
            return
          }
          try {
            const session = await ctx.api.request('POST', '/api/v1/auth/login', { username, password: current, newPassword: next.input.value }, { anonymous: true })
            await ctx.onLogin(session, 'password')
          } catch (err) {
            next.input.value = ''
            again.input.value = ''
            next.input.focus()
            failed(err)
          }
        },
      },
      h('h2', { id: 'login-change-title' }, t('login.changeTitle')),
      h('p', null, t(/administrator/.test(why) ? 'login.changeReset' : 'login.changeExpired')),
      next.wrap,
      again.wrap,
      h('button.primary.big', { type: 'submit' }, t('login.changeSubmit')),
    )
    passwordForm.replaceWith(form)
    next.input.focus()
  }

  const tabs = h(
    'nav.subnav',
    { 'aria-label': t('login.how') },
    h('a', { href: '#/login/badge', 'aria-current': mode === 'badge' ? 'page' : undefined }, t('login.tabBadge')),
    h('a', { href: '#/login/password', 'aria-current': mode === 'password' ? 'page' : undefined }, t('login.tabPassword')),
  )
  fill(
    root,
    h('section.login', { 'aria-labelledby': 'login-title' }, h('h1', { id: 'login-title' }, t('login.title')), ctx.message ? h('p.notice', { role: 'status' }, ctx.message) : null, tabs, error, mode === 'badge' ? badgeForm : passwordForm),
  )
  ;(mode === 'badge' ? badge.input : user.input).focus()
  return {}
}
