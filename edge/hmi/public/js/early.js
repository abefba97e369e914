// Runs first, before the page's modules have loaded: catches keyboard-wedge scans from the first moment, and starts the terminal's data requests while the modules load.
// A classic deferred script (no imports), first in the page: deferred scripts and modules run in order, so it runs once the page is parsed and before main.js and scan.js read `taktEarly`.
;(function () {
  /** Keys closer together than this are a scanner, not a person. */
  const scannerGapMs = 50
  const minScanLength = 3
  /** A scan nobody took within this long is dropped: it must not land in a form that appears much later. */
  const holdMs = 30_000
  const maxHeld = 5

  /** @param {EventTarget | null} el */
  const typing = (el) => el instanceof HTMLInputElement || el instanceof HTMLTextAreaElement || el instanceof HTMLSelectElement

  /**
   * The scan catcher: a burst of keys outside any field, ended by Enter, is a scan. It goes to `deliver`
   * when a view has set one, and is held (in order, for a while) when none has yet.
   * @type {{ deliver: ((code: string) => void) | null, held: Array<{ code: string, at: number }>, onHeld: (() => void) | null, take(): string | null }}
   */
  const scanner = {
    deliver: null,
    held: [],
    onHeld: null,
    take() {
      const now = Date.now()
      while (scanner.held.length && now - (scanner.held[0]?.at ?? 0) > holdMs) scanner.held.shift()
      return scanner.held.shift()?.code ?? null
    },
  }
  let buffer = ''
  let last = 0

  /** Enter at the end of a fast burst is swallowed, so a scan never "clicks" the button that happened to have the focus. @param {KeyboardEvent} e */
  function onKey(e) {
    if (e.ctrlKey || e.altKey || e.metaKey) return
    const now = performance.now()
    // A scan that began outside any field stays one scan when a field appears and takes the focus halfway through it.
    const continuing = buffer.length > 0 && now - last <= scannerGapMs
    if (typing(e.target) && !continuing) return
    if (now - last > scannerGapMs) buffer = ''
    last = now
    if (continuing && e.key.length === 1) e.preventDefault()
    if (e.key === 'Enter') {
      if (buffer.length >= minScanLength) {
        e.preventDefault()
        e.stopPropagation()
        const code = buffer
        buffer = ''
        if (scanner.deliver) scanner.deliver(code)
        else {
          scanner.held.push({ code, at: Date.now() })
          if (scanner.held.length > maxHeld) scanner.held.shift()
          scanner.onHeld?.()
        }
      }
      return
    }
    if (e.key.length === 1) buffer += e.key
  }
  document.addEventListener('keydown', onKey, true)

  /**
   * The terminal's first data, asked for now rather than after every module, the texts and the view
   * have loaded: the modules and the data then load side by side. api.js takes each answer once.
   * @type {Map<string, { token: string, at: number, response: Promise<Response> }>}
   */
  const requests = new Map()
  try {
    const raw = sessionStorage.getItem('takt.session')
    const session = raw ? JSON.parse(raw) : null
    const [view, param] = location.hash.replace(/^#\/?/, '').split('/')
    const workCenter = view === 'terminal' ? (param ? decodeURIComponent(param) : localStorage.getItem('takt.workCenter')) : null
    // The enrolled terminal's id and secret (api.js keeps them), so that these answers are the terminal's too.
    const enrolled = JSON.parse(localStorage.getItem('takt.terminal') ?? 'null')
    /** @type {Record<string, string>} */
    const terminal = enrolled && typeof enrolled.id === 'string' && typeof enrolled.secret === 'string' ? { 'x-takt-terminal': enrolled.id, 'x-takt-terminal-key': enrolled.secret } : {}
    if (session && typeof session.token === 'string' && Date.parse(session.expiresAt) > Date.now() && workCenter && (session.roles ?? []).some((/** @type {string} */ r) => r === 'operator' || r === 'lead' || r === 'admin')) {
      const paths = ['/api/v1/hmi/andon', '/api/v1/hmi/reason-codes', `/api/v1/work-centers/${encodeURIComponent(workCenter)}/dispatch-list`]
      for (const path of paths) {
        const response = fetch(path, { headers: { accept: 'application/json', authorization: `Bearer ${session.token}`, ...terminal }, cache: 'no-store', signal: AbortSignal.timeout(15000) })
        // A request nobody takes (the view changed) must not become an unhandled rejection.
        response.catch(() => {})
        requests.set(path, { token: session.token, at: Date.now(), response })
      }
    }
  } catch {
    // Storage unavailable or a damaged session: the views ask for their data themselves.
  }

  Object.assign(globalThis, { taktEarly: { scanner, requests } })
})()
