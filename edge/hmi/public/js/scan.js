// Keyboard-wedge barcode scanners: a scanner types fast and ends with Enter. Every lot and serial field takes a scan; a scan with no field focused goes where the view says.

/** Keys closer together than this are a scanner, not a person. */
const scannerGapMs = 50
const minScanLength = 3

/** @type {((code: string) => void) | null} */
let target = null
let buffer = ''
let last = 0

/** Where a scan goes when no field has the focus: the view's next lot or serial field. @param {((code: string) => void) | null} fn */
export function setScanTarget(fn) {
  target = fn
}

const typing = (/** @type {EventTarget | null} */ el) => el instanceof HTMLInputElement || el instanceof HTMLTextAreaElement || el instanceof HTMLSelectElement

/**
 * Catches scans outside any field. Enter at the end of a fast burst is swallowed, so a scan never
 * "clicks" the button that happened to have the focus.
 * @param {KeyboardEvent} e
 */
function onKey(e) {
  if (typing(e.target) || e.ctrlKey || e.altKey || e.metaKey) return
  const now = performance.now()
  if (now - last > scannerGapMs) buffer = ''
  last = now
  if (e.key === 'Enter') {
    if (buffer.length >= minScanLength) {
      e.preventDefault()
      e.stopPropagation()
      const code = buffer
      buffer = ''
      target?.(code)
    }
    return
  }
  if (e.key.length === 1) buffer += e.key
}

export function installScanner() {
  document.addEventListener('keydown', onKey, true)
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
