// Texts in the operator's language: one JSON message file per language under /hmi/i18n/, English as the fallback.

/** Languages offered, by their own name; a new language is a new file and a line here. */
export const languages = /** @type {const} */ ({ en: 'English', de: 'Deutsch' })

/** @type {Record<string, string>} */
let messages = {}
/** @type {Record<string, string>} */
let fallback = {}
let current = 'en'

/** @param {string} lang */
async function fetchMessages(lang) {
  const res = await fetch(`/hmi/i18n/${lang}.json`)
  if (!res.ok) throw new Error(`no messages for ${lang}`)
  return /** @type {Record<string, string>} */ (await res.json())
}

/** The language to start in: the terminal's last choice, else the browser's, else English. */
export function preferredLanguage() {
  const saved = localStorage.getItem('takt.lang')
  if (saved && saved in languages) return saved
  const browser = (navigator.language || 'en').slice(0, 2)
  return browser in languages ? browser : 'en'
}

/** @param {string} lang */
export async function setLanguage(lang) {
  if (!(lang in languages)) lang = 'en'
  if (Object.keys(fallback).length === 0) fallback = await fetchMessages('en')
  messages = lang === 'en' ? fallback : await fetchMessages(lang)
  current = lang
  localStorage.setItem('takt.lang', lang)
  document.documentElement.lang = lang
  for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t(/** @type {string} */ (el.getAttribute('data-i18n')))
}

export function language() {
  return current
}

/**
 * @param {string} key
 * @param {Record<string, string | number | null | undefined>} [vars] replaces {name} in the text
 */
export function t(key, vars = {}) {
  const text = messages[key] ?? fallback[key] ?? key
  return text.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ''))
}

/** A key's text when the message files have it, else `otherwise` (reason names, problem titles). @param {string} key @param {string} otherwise */
export function tOr(key, otherwise) {
  return messages[key] ?? fallback[key] ?? otherwise
}

/** @param {string | null | undefined} iso */
export function formatTime(iso) {
  if (!iso) return '–'
  return new Intl.DateTimeFormat(current, { dateStyle: 'short', timeStyle: 'short' }).format(new Date(iso))
}

/** @param {number | null | undefined} n @param {number} [digits] */
export function formatNumber(n, digits = 2) {
  if (n === null || n === undefined || Number.isNaN(n)) return '–'
  return new Intl.NumberFormat(current, { maximumFractionDigits: digits }).format(n)
}

/** @param {number | null | undefined} share 0 … 1 */
export function formatPercent(share) {
  if (share === null || share === undefined) return '–'
  return new Intl.NumberFormat(current, { style: 'percent', maximumFractionDigits: 1 }).format(share)
}

/** How long ago, coarsely: "5 min". @param {string | null | undefined} iso */
export function formatSince(iso) {
  if (!iso) return '–'
  const minutes = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 60000))
  const rtf = new Intl.RelativeTimeFormat(current, { numeric: 'auto', style: 'short' })
  return minutes < 60 ? rtf.format(-minutes, 'minute') : rtf.format(-Math.round(minutes / 60), 'hour')
}
