// Electronic signatures at the HMI (21 CFR 11.50, 11.200): the signing dialog that re-authenticates and asks the meaning, and how a signature is shown.
import { ApiError, LinkError } from './api.js'
import { field, fill, h } from './dom.js'
import { t, tOr } from './i18n.js'
import { saveSession } from './session.js'

const meanings = ['approval', 'review', 'responsibility', 'authorship']

/** The page's one signing dialog, made when first needed. */
function dialogElement() {
  const existing = /** @type {HTMLDialogElement | null} */ (document.getElementById('sign'))
  if (existing) return existing
  const dialog = /** @type {HTMLDialogElement} */ (h('dialog', { id: 'sign', 'aria-labelledby': 'sign-title' }))
  document.body.append(dialog)
  return dialog
}

/**
 * Signs an action. The gateway asks for both components (user id and password, or badge and PIN) at
 * a session's first signing and the secret alone at later ones; the dialog asks the same and follows
 * the gateway when it says otherwise. A wrong secret, a locked account or a two-person refusal is
 * shown in the dialog, which stays open until the action is signed or the person cancels.
 * @param {{ title: string, session: any, attempt(signature: Record<string, string>): Promise<any> }} o
 * @returns {Promise<any | null>} what the signed action answered, or null when cancelled
 */
export function signDialog(o) {
  const dialog = dialogElement()
  const badge = o.session.via === 'badge'
  let both = !o.session.signedOnce
  return new Promise((resolve) => {
    const error = h('div.sign-error', { role: 'alert' })
    /** @param {unknown} e */
    const say = (e) => {
      const code = e instanceof ApiError ? e.code : e instanceof LinkError ? 'link_down' : 'internal'
      const detail = e instanceof ApiError ? e.detail : e instanceof LinkError ? t('link.down') : String(e)
      fill(error, h('div.refusal', { 'data-code': code }, h('p.refusal-title', null, tOr(`problem.${code}`, t('problem.generic'))), h('p.refusal-detail', null, detail)))
    }
    const done = (/** @type {any} */ answer) => {
      dialog.removeEventListener('cancel', onCancel)
      if (dialog.open) dialog.close()
      dialog.replaceChildren()
      resolve(answer)
    }
    const onCancel = (/** @type {Event} */ e) => {
      e.preventDefault()
      done(null)
    }
    const draw = () => {
      const id = badge ? field(t('sign.badge'), { name: 'sign-badge', autocomplete: 'off', required: true, maxlength: 128 }) : field(t('sign.user'), { name: 'sign-user', autocomplete: 'username', required: true, maxlength: 128 })
      const secret = badge
        ? field(t('sign.pin'), { name: 'sign-pin', type: 'password', inputmode: 'numeric', autocomplete: 'off', required: true, maxlength: 12 })
        : field(t('sign.password'), { name: 'sign-password', type: 'password', autocomplete: 'current-password', required: true, maxlength: 200 })
      const meaning = h(
        'fieldset.meanings',
        null,
        h('legend', null, t('sign.meaning')),
        meanings.map((m, i) => h('label.radio', null, h('input', { type: 'radio', name: 'sign-meaning', value: m, checked: i === 0 }), ' ', t(`sign.meaning.${m}`))),
      )
      const submit = h('button.primary', { type: 'submit' }, t('sign.submit'))
      const form = h(
        'form',
        {
          onsubmit: async (/** @type {Event} */ e) => {
            e.preventDefault()
            const chosen = /** @type {HTMLInputElement | null} */ (form.querySelector('input[name="sign-meaning"]:checked'))
            /** @type {Record<string, string>} */
            const signature = { meaning: chosen?.value ?? 'approval' }
            if (badge) signature.pin = secret.input.value
            else signature.password = secret.input.value
            if (both) signature[badge ? 'badgeId' : 'username'] = id.input.value.trim()
            submit.toggleAttribute('disabled', true)
            try {
              const answer = await o.attempt(signature)
              o.session.signedOnce = true
              saveSession(o.session)
              done(answer)
            } catch (err) {
              secret.input.value = ''
              submit.toggleAttribute('disabled', false)
              // The gateway counts this session's signings: when it wants both components, ask for both.
              say(err)
              if (err instanceof ApiError && err.code === 'signature_incomplete' && !both) {
                both = true
                draw()
                return
              }
              ;(both && !id.input.value ? id.input : secret.input).focus()
            }
          },
        },
        h('h2', { id: 'sign-title' }, o.title),
        h('p', null, t('sign.as', { name: o.session.name })),
        h('p.muted', null, both ? (badge ? t('sign.bothNeededBadge') : t('sign.bothNeeded')) : badge ? t('sign.secretOnlyBadge') : t('sign.secretOnly')),
        error,
        both ? id.wrap : null,
        secret.wrap,
        meaning,
        h('div.row.end', null, h('button.ghost', { type: 'button', onclick: () => done(null) }, t('app.cancel')), submit),
      )
      fill(dialog, form)
      if (!dialog.open) dialog.showModal()
      ;(both ? id.input : secret.input).focus()
    }
    dialog.addEventListener('cancel', onCancel)
    draw()
  })
}

/** '2026-12-02T08:15:00.000Z' as '2026-12-02 08:15:00 UTC'. @param {string} iso */
const utcText = (iso) => `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`

/** '2026-12-02T09:15:00.000+01:00' in Europe/Berlin as '2026-12-02 09:15:00 (UTC+01:00, Europe/Berlin)'. @param {string} local @param {string} zone */
const localText = (local, zone) => `${local.slice(0, 10)} ${local.slice(11, 19)} (UTC${local.slice(23)}, ${zone})`

/**
 * One signature as the record shows it (21 CFR 11.50): printed name, meaning, UTC and local time, and
 * the gateway's check that it still belongs to its record.
 * @param {any} sig a signature as the gateway returns it with a record
 */
export function signatureLine(sig) {
  return h(
    'li.signature',
    { 'data-signer': sig.signerId, 'data-valid': String(sig.valid !== false) },
    h('strong', null, sig.signerName),
    ` · ${tOr(`sign.meaning.${sig.meaning}`, sig.meaning)} · ${utcText(sig.signedAt)} · ${t('sign.local')} ${localText(sig.localTime, sig.timeZone)}`,
    sig.reason ? ` · ${sig.reason}` : '',
    sig.valid === false ? h('span.bad', null, ` ${t('sign.invalid', { problem: sig.problem ?? '' })}`) : null,
  )
}

/** The signatures of a record, or a line saying there are none. @param {any[]} signatures */
export function signatureList(signatures) {
  return h('section.card.signatures', null, h('h3', null, t('sign.signatures')), signatures.length ? h('ul', null, signatures.map(signatureLine)) : h('p.muted', null, t('sign.none')))
}

/**
 * The signatures of many records, by subject (`order/PO-1`, `nonconformance/…`), in as few requests as
 * the gateway allows; a record without any maps to an empty list, and a gateway without the list to {}.
 * @param {import('./api.js').Api} api @param {string[]} subjects @returns {Promise<Record<string, any[]>>}
 */
export async function signaturesOf(api, subjects) {
  const unique = [...new Set(subjects)]
  /** @type {Record<string, any[]>} */
  const out = {}
  for (let i = 0; i < unique.length; i += 200) {
    const answer = await api.optional(`/api/v1/signatures?subjects=${unique.slice(i, i + 200).map(encodeURIComponent).join(',')}`)
    Object.assign(out, answer?.items ?? {})
  }
  return out
}

/**
 * Shows each row's signatures under it in a table made by ui.js's table(), in a row across every
 * column (21 CFR 11.50(b): the signature goes with the record wherever it is shown).
 * @param {HTMLTableElement} tableEl @param {string[]} subjects the record of each body row, in order @param {Record<string, any[]>} signed from signaturesOf()
 */
export function signatureRows(tableEl, subjects, signed) {
  const rows = [...tableEl.tBodies[0].rows]
  const span = tableEl.tHead?.rows[0]?.cells.length ?? 1
  rows.forEach((row, i) => {
    const subject = subjects[i] ?? ''
    const signatures = signed[subject]
    if (!signatures?.length) return
    row.classList.add('signed')
    row.after(h('tr.signature-row', { 'data-record': subject }, h('td', { colspan: span }, h('ul.signatures', { 'aria-label': t('sign.signatures') }, signatures.map(signatureLine)))))
  })
  return tableEl
}
