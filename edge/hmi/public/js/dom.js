// Building the page from data without innerHTML: every text is a text node, so nothing the gateway sends can run as markup.

/**
 * @param {string} tag e.g. 'button' or 'button.primary'
 * @param {Record<string, unknown> | null} [attrs] attributes; on* functions become listeners; `hidden`, `disabled` … as booleans
 * @param {...(Node | string | number | null | undefined | false | Array<Node | string | null | undefined | false>)} children
 * @returns {HTMLElement}
 */
export function h(tag, attrs, ...children) {
  const [name, ...classes] = tag.split('.')
  const el = document.createElement(name || 'div')
  if (classes.length) el.className = classes.join(' ')
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), /** @type {EventListener} */ (value))
    else if (key === 'class') el.className = [el.className, String(value)].filter(Boolean).join(' ')
    else if (key === 'value' && 'value' in el) /** @type {HTMLInputElement} */ (el).value = String(value)
    else if (value === true) el.setAttribute(key, '')
    else el.setAttribute(key, String(value))
  }
  append(el, children)
  return el
}

/** @param {Element} el @param {unknown[]} children */
function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue
    if (Array.isArray(child)) append(el, child)
    else el.append(child instanceof Node ? child : String(child))
  }
}

/** Replaces an element's children. @param {Element} el @param {...unknown} children */
export function fill(el, ...children) {
  el.replaceChildren()
  append(el, children)
  return el
}

let ids = 0
/** A page-unique id for label/field pairs. @param {string} prefix */
export function uid(prefix) {
  ids += 1
  return `${prefix}-${ids}`
}

/**
 * A labelled field: the label names the input for screen readers and for tests.
 * @param {string} label
 * @param {Record<string, unknown>} attrs attributes of the input
 * @param {string} [tag]
 */
export function field(label, attrs, tag = 'input') {
  const id = /** @type {string} */ (attrs.id ?? uid('f'))
  const input = /** @type {HTMLInputElement} */ (h(tag, { ...attrs, id }))
  return { wrap: h('div.field', null, h('label', { for: id }, label), input), input }
}

/** A small debounce: live events often come in bursts (one command, several events). @param {() => void} fn @param {number} ms */
export function debounce(fn, ms) {
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer
  return () => {
    clearTimeout(timer)
    timer = setTimeout(fn, ms)
  }
}
