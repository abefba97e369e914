// Safe XML reading for ERP documents: a small element tree with line numbers; no DTD, no entities beyond XML's five, bounded depth and size.

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
  /** Set once its end tag is read: from then on its counts are final. */
  closed: boolean
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
  /** While the parent is still being read, its child counts (still growing): "[n]" only where a name repeats. */
  siblings: Record<string, number> | null
  /** Once the parent is closed, how many of its children have this name. */
  named: number
}

/** A closed parent's count is copied, so that a ref does not keep the counts of every element it passed. */
export function refOf(el: XmlElement): PathRef {
  const parent = el.parent
  const open = parent !== null && !parent.closed
  return (el.ref ??= { name: el.name, index: el.index, up: parent ? refOf(parent) : null, siblings: open ? parent.counts : null, named: open || !parent ? 1 : (parent.counts?.[el.name] ?? 1) })
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

export { parseXml } from './xml-parse.ts'

/** The element's path from the root, XPath style, with a 1-based index where a name repeats among siblings. */
export function pathOf(el: XmlElement): string {
  return pathOfRef(refOf(el))
}

export function pathOfRef(ref: PathRef): string {
  const parts: string[] = []
  for (let r: PathRef | null = ref; r; r = r.up) {
    const repeated = (r.siblings?.[r.name] ?? r.named) > 1
    parts.push(repeated ? `${r.name}[${r.index}]` : r.name)
  }
  return '/' + parts.reverse().join('/')
}
