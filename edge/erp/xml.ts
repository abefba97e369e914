// Safe XML reading for ERP documents: a small element tree with line numbers; no DTD, no entities beyond XML's five, bounded depth and size.
import { SaxesParser, type SaxesTagNS } from 'saxes'

export interface XmlElement {
  /** Local name, without prefix. */
  name: string
  /** Namespace URI ('' when none). */
  ns: string
  /** Attributes without a namespace, by local name. */
  attrs: Record<string, string>
  children: XmlElement[]
  /** The element's own character data, concatenated (untrimmed). */
  text: string
  /** 1-based line and column where the start tag begins. */
  line: number
  column: number
  parent: XmlElement | null
  /** 1-based position among the parent's children of the same name. */
  index: number
  /** How many children of each name this element has had so far (all of them, once it closed). */
  counts: Record<string, number> | null
  /** Made when first asked for (refOf). */
  ref?: PathRef
}

/**
 * An element's place: name, position among same-named siblings, the parent's place. Problems
 * and records keep this, not the element, so that a consumed subtree can be freed.
 */
export interface PathRef {
  name: string
  index: number
  up: PathRef | null
  /** The parent's child counts, still growing while the document is read: "[n]" only where a name repeats. */
  siblings: Record<string, number> | null
}

export function refOf(el: XmlElement): PathRef {
  return (el.ref ??= { name: el.name, index: el.index, up: el.parent ? refOf(el.parent) : null, siblings: el.parent?.counts ?? null })
}

export interface XmlLimits {
  /** Deepest element nesting accepted. B2MML documents nest about 12 levels. */
  maxDepth: number
  /** Most elements in one document: a bound on memory independent of how compact the text is. */
  maxElements: number
}

export const defaultXmlLimits: XmlLimits = { maxDepth: 64, maxElements: 2_000_000 }

export type XmlRefusalCode = 'xml_malformed' | 'xml_doctype_refused' | 'xml_encoding_unsupported' | 'xml_limit_exceeded'

/** Why a text is not accepted as XML, with where the parser was when it stopped. */
export class XmlRefusal extends Error {
  readonly code: XmlRefusalCode
  readonly line: number
  readonly column: number

  constructor(code: XmlRefusalCode, message: string, line: number, column: number) {
    super(message)
    this.code = code
    this.line = line
    this.column = column
  }
}

const utf8 = /^utf-?8$/i
const chunkSize = 16 * 1024
const blank = /^\s*$/
const noAttributes: Record<string, string> = Object.freeze({}) as Record<string, string>
const noChildren: XmlElement[] = Object.freeze([]) as unknown as XmlElement[]

/**
 * Parses `text` into an element tree. Refuses (throws XmlRefusal) on the first problem: not
 * well-formed, any DOCTYPE (so no DTD, no external or internal entity can be declared, and no
 * entity expansion beyond amp, lt, gt, quot and apos is possible), a declared encoding other
 * than UTF-8 (the body was decoded as UTF-8), too deep, or too many elements.
 *
 * `take` is offered every element as it closes, complete; one it takes is dropped from the tree.
 * A large schedule is read request by request this way, and never held whole in memory.
 */
export function parseXml(text: string, limits: XmlLimits = defaultXmlLimits, take?: (el: XmlElement) => boolean): XmlElement {
  const parser = new SaxesParser({ xmlns: true, position: true })
  let root: XmlElement | null = null
  let current: XmlElement | null = null
  let depth = 0
  let count = 0
  let startLine = 1
  let startColumn = 1
  const refuse = (code: XmlRefusalCode, message: string): never => {
    throw new XmlRefusal(code, message, parser.line, parser.column + 1)
  }
  parser.on('error', (error) => refuse('xml_malformed', `The document is not well-formed XML: ${stripPosition(error.message)}`))
  parser.on('doctype', () => refuse('xml_doctype_refused', 'The document has a DOCTYPE; Takt accepts no DTD, so no entity can be declared. Remove the DOCTYPE.'))
  parser.on('xmldecl', (decl) => {
    if (decl.encoding !== undefined && !utf8.test(decl.encoding)) {
      refuse('xml_encoding_unsupported', `The document declares encoding '${decl.encoding}'; send it as UTF-8.`)
    }
  })
  parser.on('opentagstart', (tag) => {
    // Called once the character after the name is read; the start tag's "<" is just before the name.
    startLine = parser.line
    startColumn = Math.max(1, parser.column - tag.name.length - 1)
  })
  // Attributes arrive one by one before their tag; only those without a prefix are kept (xmlns declarations are not attributes).
  let pending = noAttributes
  parser.on('attribute', (a) => {
    if (a.prefix !== '' || a.name === 'xmlns') return
    if (pending === noAttributes) pending = {}
    pending[a.local] = a.value
  })
  parser.on('opentag', (tag: SaxesTagNS) => {
    depth += 1
    count += 1
    if (depth > limits.maxDepth) refuse('xml_limit_exceeded', `Elements nest deeper than ${limits.maxDepth} levels.`)
    if (count > limits.maxElements) refuse('xml_limit_exceeded', `The document has more than ${limits.maxElements} elements.`)
    // A schedule has hundreds of thousands of elements, most without attributes or children: share the empty ones.
    const attrs = pending
    pending = noAttributes
    let index = 1
    if (current) {
      current.counts ??= {}
      index = current.counts[tag.local] = (current.counts[tag.local] ?? 0) + 1
    }
    const el: XmlElement = { name: tag.local, ns: tag.uri, attrs, children: noChildren, text: '', line: startLine, column: startColumn, parent: current, index, counts: null }
    if (!current) root = el
    else if (current.children === noChildren) current.children = [el]
    else current.children.push(el)
    current = el
  })
  parser.on('closetag', () => {
    depth -= 1
    const done = current
    current = current?.parent ?? null
    if (take && done && current && take(done)) {
      // The element just closed is its parent's last child.
      if (current.children.length === 1) current.children = noChildren
      else current.children.pop()
    }
  })
  // Whitespace between elements means nothing in B2MML (values are read trimmed): keep no strings for it.
  const addText = (t: string) => {
    if (current && (current.text !== '' || !blank.test(t))) current.text += t
  }
  parser.on('text', addText)
  parser.on('cdata', addText)
  // saxes slows down on one huge chunk with text in it (measured: 6.9 MB in one write ~4× slower than in 16 KiB writes).
  for (let i = 0; i < text.length; i += chunkSize) parser.write(text.slice(i, i + chunkSize))
  parser.close()
  if (!root) throw new XmlRefusal('xml_malformed', 'The document has no root element.', parser.line, parser.column + 1)
  return root
}

/** saxes puts "line:column: " in front of its messages; Takt reports position separately. */
function stripPosition(message: string): string {
  return message.replace(/^(?:[^:]*:)?\d+:\d+: /, '')
}

/** The element's path from the root, XPath style, with a 1-based index where a name repeats among siblings. */
export function pathOf(el: XmlElement): string {
  return pathOfRef(refOf(el))
}

export function pathOfRef(ref: PathRef): string {
  const parts: string[] = []
  for (let r: PathRef | null = ref; r; r = r.up) {
    const repeated = (r.siblings?.[r.name] ?? 1) > 1
    parts.push(repeated ? `${r.name}[${r.index}]` : r.name)
  }
  return '/' + parts.reverse().join('/')
}
