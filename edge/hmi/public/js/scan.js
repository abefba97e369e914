// Keyboard-wedge barcode scanners: a scanner types fast and ends with Enter. Every lot and serial field takes a scan; a scan with no field focused goes where the view says, and one that comes before the view has a place for it is held and handed over when it does.
import { fill } from './dom.js'
import { t } from './i18n.js'

/**
 * The catcher early.js installed before any module loaded (so a scan while the page loads is not lost).
 * @typedef {{ deliver: ((code: string) => void) | null, held: Array<{ code: string, at: number }>, onHeld: (() => void) | null, take(): string | null }} EarlyScanner
 */
const scanner = /** @type {EarlyScanner} */ (/** @type {any} */ (globalThis).taktEarly?.scanner ?? { deliver: null, held: [], onHeld: null, take: () => null })

/** @type {((code: string) => void) | null} */
let target = null
/** @type {HTMLElement | null} */
let heldSlot = null

/** Says which scans are waiting, so the operator sees that the scan was taken and not lost. */
function showHeld() {
  if (!heldSlot) return
  const codes = scanner.held.map((s) => s.code)
  heldSlot.hidden = codes.length === 0
  fill(heldSlot, codes.length ? t('scan.held', { codes: codes.join(', ') }) : null)
}

/**
 * Where a scan goes when no field has the focus: the view's next lot or serial field. A scan held
 * while there was none goes to the new target once the view has drawn it (one scan per target: the
 * next waits for what that scan brings up, e.g. the run after a start).
 * @param {((code: string) => void) | null} fn
 */
export function setScanTarget(fn) {
  target = fn
  scanner.deliver = fn
  if (fn && scanner.held.length) {
    setTimeout(() => {
      if (target !== fn) return
      const code = scanner.take()
      showHeld()
      if (code !== null) fn(code)
    }, 0)
  }
  showHeld()
}

/** Shows held scans in `slot` from now on (those held while the modules loaded included). @param {HTMLElement} slot */
export function installScanner(slot) {
  heldSlot = slot
  scanner.onHeld = showHeld
  showHeld()
}

/**
 * Makes an input a scan field: Enter (the scanner's or a person's) hands over the trimmed value. The
 * caller clears the field when the scan was taken, or leaves it selected to show what was refused.
 * @param {HTMLInputElement} input
 * @param {(code: string) => void | Promise<void>} onScan
 */
export function scanField(input, onScan) {
  input.setAttribute('autocomplete', 'off')
  input.setAttribute('autocapitalize', 'off')
  input.setAttribute('spellcheck', 'false')
  input.dataset.scan = ''
  input.addEventListener('keydown', async (e) => {
    if (e.key !== 'Enter') return
    e.preventDefault()
    const code = input.value.trim()
    if (!code) return
    await onScan(code)
  })
}
