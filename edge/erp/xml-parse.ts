// The XML reader behind parseXml: one pass over the text with sticky expressions, strict well-formedness, no DTD, positions of every start tag.
import { defaultXmlLimits, XmlRefusal, type XmlElement, type XmlLimits, type XmlRefusalCode } from './xml.ts'

// XML 1.0 (5th ed.) 2.3 [4] NameStartChar and [4a] NameChar; namespaces 1.0 [4] NCName is a Name without ':'.
const ncStart = 'A-Z_a-z\\xC0-\\xD6\\xD8-\\xF6\\xF8-\\u02FF\\u0370-\\u037D\\u037F-\\u1FFF\\u200C\\u200D\\u2070-\\u218F\\u2C00-\\u2FEF\\u3001-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFFFD\\u{10000}-\\u{EFFFF}'
const ncChar = `${ncStart}\\-.0-9\\xB7\\u0300-\\u036F\\u203F-\\u2040`
const ncName = `[${ncStart}][${ncChar}]*`
const qName = `(?:${ncName}:)?${ncName}`
const ws = '[ \\t\\r\\n]'

const startName = new RegExp(`<(${qName})`, 'uy')
const attribute = new RegExp(`${ws}+(${qName})${ws}*=${ws}*(?:"([^<"]*)"|'([^<']*)')`, 'uy')
const tagEnd = new RegExp(`${ws}*(/?)>`, 'y')
const endTag = new RegExp(`</(${qName})${ws}*>`, 'uy')
const piTarget = new RegExp(`<\\?(${ncName})(?:${ws}|\\?>)`, 'uy')
const xmlDecl = new RegExp(
  `<\\?xml${ws}+version${ws}*=${ws}*(["'])1\\.[0-9]+\\1(?:${ws}+encoding${ws}*=${ws}*(["'])([A-Za-z][A-Za-z0-9._-]*)\\2)?(?:${ws}+standalone${ws}*=${ws}*(["'])(?:yes|no)\\4)?${ws}*\\?>`,
  'y',
)
// XML 1.0 2.2 [2] Char: anything else (C0 controls, lone surrogates, U+FFFE/FFFF) cannot be in a document at all.
const notAChar = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u
const lineEnd = /\r\n?/g
const attributeSpace = /[\t\n\r]/g
const utf8 = /^utf-?8$/i
const xmlNamespace = 'http://www.w3.org/XML/1998/namespace'
const predefined: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }

const noAttributes: Record<string, string> = Object.freeze({}) as Record<string, string>
const noChildren: XmlElement[] = Object.freeze([]) as unknown as XmlElement[]

type Scope = Record<string, string>

const isXmlChar = (c: number) => c === 0x9 || c === 0xa || c === 0xd || (c >= 0x20 && c <= 0xd7ff) || (c >= 0xe000 && c <= 0xfffd) || (c >= 0x10000 && c <= 0x10ffff)
const isSpace = (c: number) => c === 0x20 || c === 0xa || c === 0x9 || c === 0xd

class Scan {
  readonly text: string
  readonly limits: XmlLimits
  readonly take: ((el: XmlElement) => boolean) | undefined
  root: XmlElement | null = null
  current: XmlElement | null = null
  /** The open elements' qualified names and namespace scopes, innermost last. */
  readonly names: string[] = []
  readonly scopes: Scope[] = [{ xml: xmlNamespace, '': '' }]
  count = 0
  // Lines are counted forward as start tags are met; nextBreak keeps a line with many tags from being rescanned.
  line = 1
  lineStart = 0
  nextBreak: number

  constructor(text: string, limits: XmlLimits, take: ((el: XmlElement) => boolean) | undefined) {
    this.text = text
    this.limits = limits
    this.take = take
    this.nextBreak = text.indexOf('\n')
  }

  seek(at: number): void {
    if (at < this.lineStart) {
      this.line = 1
      this.lineStart = 0
      this.nextBreak = this.text.indexOf('\n')
    }
    while (this.nextBreak !== -1 && this.nextBreak < at) {
      this.line += 1
      this.lineStart = this.nextBreak + 1
      this.nextBreak = this.text.indexOf('\n', this.lineStart)
    }
  }

  refuse(at: number, code: XmlRefusalCode, message: string): never {
    this.seek(Math.min(at, this.text.length))
    throw new XmlRefusal(code, message, this.line, at - this.lineStart + 1)
  }

  malformed(at: number, message: string): never {
    return this.refuse(at, 'xml_malformed', `The document is not well-formed XML: ${message}`)
  }

  /** Character data with its references replaced; only the five predefined entities and character references exist without a DTD. */
  decode(raw: string, at: number): string {
    let amp = raw.indexOf('&')
    if (amp < 0) return raw
    let out = ''
    let last = 0
    while (amp >= 0) {
      out += raw.slice(last, amp)
      const semi = raw.indexOf(';', amp)
      const ref = semi < 0 ? '' : raw.slice(amp + 1, semi)
      const numeric = /^#(?:([0-9]+)|x([0-9a-fA-F]+))$/.exec(ref)
      if (numeric) {
        const code = numeric[1] !== undefined ? Number(numeric[1]) : Number.parseInt(numeric[2]!, 16)
        if (!isXmlChar(code)) this.malformed(at + amp, `&${ref}; refers to a character XML does not allow`)
        out += String.fromCodePoint(code)
      } else if (predefined[ref] !== undefined) out += predefined[ref]
      else if (new RegExp(`^${ncName}$`, 'u').test(ref)) this.malformed(at + amp, `undefined entity &${ref}; (only amp, lt, gt, quot and apos exist without a DTD)`)
      else this.malformed(at + amp, "'&' that starts no entity or character reference; write &amp;")
      last = semi + 1
      amp = raw.indexOf('&', last)
    }
    return out + raw.slice(last)
  }

  /** Text between markup: kept on the open element, only blank outside the root. Blank text between elements is not kept (B2MML values are read trimmed). */
  characters(from: number, to: number): void {
    const text = this.text
    let i = from
    while (i < to && isSpace(text.charCodeAt(i))) i += 1
    const el = this.current
    if (!el) {
      if (i < to) this.malformed(i, this.root ? 'text after the root element' : 'text before the root element')
      return
    }
    if (i === to && el.text === '') return
    const raw = text.slice(from, to)
    const cdataEnd = raw.indexOf(']]>')
    if (cdataEnd >= 0) this.malformed(from + cdataEnd, "']]>' in character data; write ]]&gt;")
    el.text += this.decode(raw, from)
  }

  /** The end of the name starting at `from`, or -1: ASCII names are scanned by hand, anything else by the full expression. */
  nameEnd(from: number): number {
    const text = this.text
    let i = from
    let colons = 0
    for (;;) {
      const c = text.charCodeAt(i)
      if ((c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || c === 0x5f) i += 1
      else if (i > from && ((c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2e)) i += 1
      else if (c === 0x3a && i > from) {
        colons += 1
        i += 1
      } else if (c >= 0x80 || colons > 1 || text.charCodeAt(i - 1) === 0x3a) break
      else return i > from && colons === 0 ? i : colons === 1 ? this.qualifiedEnd(from) : -1
    }
    return this.qualifiedEnd(from)
  }

  qualifiedEnd(from: number): number {
    startName.lastIndex = from - 1
    return startName.exec(this.text) ? startName.lastIndex : -1
  }

  open(at: number): number {
    const text = this.text
    const nameEnd = this.nameEnd(at + 1)
    if (nameEnd < 0) return this.malformed(at, "'<' not followed by an element name")
    if (this.root && !this.current) this.malformed(at, 'only one root element is allowed')
    const qname = text.slice(at + 1, nameEnd)
    let p = nameEnd
    let declared: Scope | null = null
    // A Set, not a list: a tag with thousands of attributes must not cost their square.
    let seen: Set<string> | null = null
    let attrs = noAttributes
    let prefixed: Array<[string, number]> | null = null
    // Most B2MML start tags have no attributes: '>' right after the name needs no expression.
    const after = text.charCodeAt(p)
    for (; after !== 0x3e && after !== 0x2f; ) {
      attribute.lastIndex = p
      const a = attribute.exec(text)
      if (!a) break
      const aname = a[1]!
      if (seen?.has(aname)) this.malformed(p, `duplicate attribute ${aname} on <${qname}>`)
      ;(seen ??= new Set()).add(aname)
      const value = this.decode((a[2] ?? a[3]!).replace(attributeSpace, ' '), p)
      if (aname === 'xmlns' || aname.startsWith('xmlns:')) {
        const prefix = aname === 'xmlns' ? '' : aname.slice(6)
        if (prefix !== '' && value === '') this.malformed(p, `namespace prefix ${prefix} cannot be undeclared`)
        if (prefix === 'xmlns' || (prefix === 'xml') !== (value === xmlNamespace)) this.malformed(p, `the prefix ${prefix || '(default)'} cannot be bound to ${value}`)
        ;(declared ??= Object.create(this.scopes.at(-1)!) as Scope)[prefix] = value
      } else if (aname.includes(':')) (prefixed ??= []).push([aname, p])
      else {
        if (attrs === noAttributes) attrs = {}
        attrs[aname] = value
      }
      p = attribute.lastIndex
    }
    tagEnd.lastIndex = p
    const end = tagEnd.exec(text)
    if (!end) this.malformed(p, `the start tag <${qname}> is malformed (attributes are name="value", quoted, without '<' in the value)`)
    const scope = declared ?? this.scopes.at(-1)!
    for (const [aname, where] of prefixed ?? []) {
      const prefix = aname.slice(0, aname.indexOf(':'))
      if (scope[prefix] === undefined) this.malformed(where, `unbound namespace prefix ${prefix} on attribute ${aname}`)
    }
    const colon = qname.indexOf(':')
    const prefix = colon < 0 ? '' : qname.slice(0, colon)
    const ns = scope[prefix]
    if (ns === undefined) this.malformed(at, `unbound namespace prefix ${prefix} on <${qname}>`)
    this.element(at, colon < 0 ? qname : qname.slice(colon + 1), ns, attrs)
    this.names.push(qname)
    this.scopes.push(scope)
    if (end[1] === '/') this.close()
    return tagEnd.lastIndex
  }

  element(at: number, local: string, ns: string, attrs: Record<string, string>): void {
    this.count += 1
    if (this.names.length + 1 > this.limits.maxDepth) this.refuse(at, 'xml_limit_exceeded', `Elements nest deeper than ${this.limits.maxDepth} levels.`)
    if (this.count > this.limits.maxElements) this.refuse(at, 'xml_limit_exceeded', `The document has more than ${this.limits.maxElements} elements.`)
    this.seek(at)
    const parent = this.current
    let index = 1
    if (parent) {
      parent.counts ??= {}
      index = parent.counts[local] = (parent.counts[local] ?? 0) + 1
    }
    // A schedule has hundreds of thousands of elements, most without attributes or children: they share the empty ones.
    const el: XmlElement = { name: local, ns, attrs, children: noChildren, text: '', line: this.line, column: at - this.lineStart + 1, parent, index, counts: null, closed: false }
    if (!parent) this.root = el
    else if (parent.children === noChildren) parent.children = [el]
    else parent.children.push(el)
    this.current = el
  }

  closeTag(at: number): number {
    const open = this.names.at(-1)
    // The usual case: exactly the open element's name, then '>'.
    if (open !== undefined && this.text.startsWith(open, at + 2) && this.text.charCodeAt(at + 2 + open.length) === 0x3e) {
      this.close()
      return at + 3 + open.length
    }
    endTag.lastIndex = at
    const m = endTag.exec(this.text)
    if (!m) return this.malformed(at, "'</' not followed by an element name and '>'")
    if (open === undefined) this.malformed(at, `unexpected close tag </${m[1]}>: no element is open`)
    if (m[1] !== open) this.malformed(at, `unexpected close tag </${m[1]}>: <${open}> (line ${this.current!.line}) is still open`)
    this.close()
    return endTag.lastIndex
  }

  close(): void {
    this.names.pop()
    this.scopes.pop()
    const done = this.current!
    done.closed = true
    const parent = done.parent
    this.current = parent
    if (this.take && parent && this.take(done)) {
      // The element just closed is its parent's last child.
      if (parent.children.length === 1) parent.children = noChildren
      else parent.children.pop()
    }
  }

  /** `<!…`: a comment anywhere, CDATA inside the root; a DOCTYPE is refused where it begins, before anything in it is read. */
  bang(at: number): number {
    const text = this.text
    if (text.startsWith('<!--', at)) {
      const end = text.indexOf('-->', at + 4)
      if (end < 0) this.malformed(at, 'a comment is not closed with -->')
      const dashes = text.indexOf('--', at + 4)
      if (dashes < end) this.malformed(dashes, "'--' inside a comment")
      return end + 3
    }
    if (text.startsWith('<![CDATA[', at)) {
      if (!this.current) this.malformed(at, 'CDATA outside the root element')
      const end = text.indexOf(']]>', at + 9)
      if (end < 0) this.malformed(at, 'a CDATA section is not closed with ]]>')
      this.current.text += text.slice(at + 9, end)
      return end + 3
    }
    if (text.startsWith('<!DOCTYPE', at)) {
      this.refuse(at, 'xml_doctype_refused', 'The document has a DOCTYPE; Takt accepts no DTD, so no entity can be declared. Remove the DOCTYPE.')
    }
    return this.malformed(at, "'<!' that starts no comment or CDATA section")
  }

  /** A processing instruction: skipped; an XML declaration anywhere but the very start is an error. */
  instruction(at: number): number {
    piTarget.lastIndex = at
    const m = piTarget.exec(this.text)
    if (!m) this.malformed(at, "'<?' not followed by a processing instruction target")
    if (m[1]!.toLowerCase() === 'xml') this.malformed(at, 'the XML declaration may only be at the very start of the document')
    const end = this.text.indexOf('?>', at + 2)
    if (end < 0) this.malformed(at, 'a processing instruction is not closed with ?>')
    return end + 2
  }

  prolog(): number {
    const text = this.text
    let p = text.charCodeAt(0) === 0xfeff ? 1 : 0
    if (text.startsWith('<?xml', p) && (isSpace(text.charCodeAt(p + 5)) || text.startsWith('?>', p + 5))) {
      xmlDecl.lastIndex = p
      const decl = xmlDecl.exec(text)
      if (!decl) this.malformed(p, 'the XML declaration is malformed (<?xml version="1.0" encoding="UTF-8"?>)')
      const encoding = decl[3]
      if (encoding !== undefined && !utf8.test(encoding)) this.refuse(p, 'xml_encoding_unsupported', `The document declares encoding '${encoding}'; send it as UTF-8.`)
      p = xmlDecl.lastIndex
    }
    return p
  }

  run(): XmlElement {
    const text = this.text
    const bad = notAChar.exec(text)
    if (bad) this.malformed(bad.index, `character U+${bad[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')} is not allowed in XML`)
    let p = this.prolog()
    const length = text.length
    while (p < length) {
      const lt = text.indexOf('<', p)
      const stop = lt < 0 ? length : lt
      if (stop > p) this.characters(p, stop)
      if (lt < 0) break
      const next = text.charCodeAt(lt + 1)
      p = next === 0x2f ? this.closeTag(lt) : next === 0x21 ? this.bang(lt) : next === 0x3f ? this.instruction(lt) : this.open(lt)
    }
    if (this.current) this.malformed(length, `unclosed tag <${this.names.at(-1)}> (line ${this.current.line})`)
    if (!this.root) this.malformed(length, 'the document has no root element')
    return this.root
  }
}

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
  // XML 1.0 2.11: a parser reads every line end as a single \n.
  const normalized = text.includes('\r') ? text.replace(lineEnd, '\n') : text
  return new Scan(normalized, limits, take).run()
}
