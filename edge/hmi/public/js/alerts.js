// Security alerts for leads, quality and administrators (21 CFR 11.300(d)): accounts locked after repeated wrong passwords or PINs, and who can unlock them.
import { h, fill } from './dom.js'
import { formatTime, t, tOr } from './i18n.js'
import { hasRole } from './session.js'

/** @param {HTMLElement} slot */
export function alertsArea(slot) {
  let asked = 0
  return {
    /** Shows the lockouts that still hold; hidden for everyone else and when there are none. @param {any} api @param {any} session */
    async refresh(api, session) {
      const generation = ++asked
      if (!hasRole(session, 'lead', 'quality')) {
        slot.hidden = true
        slot.replaceChildren()
        return
      }
      const res = await api.optional('/api/v1/hmi/alerts').catch(() => null)
      // A newer refresh (or a logout) came while this one waited.
      if (generation !== asked) return
      const active = (res?.items ?? []).filter((/** @type {any} */ a) => a.active)
      slot.hidden = active.length === 0
      slot.setAttribute('aria-label', t('alerts.title'))
      fill(
        slot,
        active.length
          ? h(
              'div.banner.warn',
              { role: 'alert' },
              h('strong', null, t('alerts.title')),
              h(
                'ul',
                null,
                active.map((/** @type {any} */ a) =>
                  h(
                    'li',
                    { 'data-person': a.personId },
                    t('alerts.locked', { name: a.name, until: formatTime(a.lockedUntil), credential: tOr(`alerts.credential.${a.credential}`, a.credential) }),
                    a.terminal ? ` ${t('alerts.atTerminal', { terminal: a.terminal })}` : '',
                    ' ',
                    a.credential === 'pin' ? t('alerts.unlock.pin') : t('alerts.unlock.password'),
                  ),
                ),
              ),
            )
          : null,
      )
    },
  }
}
