// Writing XML: a tiny element model and a serializer that escapes text and attributes and drops characters XML 1.0 cannot hold.
import type { XmlElement } from './xml.ts'

export interface XmlNode {
  name: string
  attrs: Record<string, string>
  children: Array<XmlNode | string>
}

type Content = XmlNode | string | number | null | undefined | false | Content[]

function flatten(content: Content[], out: Array<XmlNode | string>): void {
  for (const c of content) {
    if (c === null || c === undefined || c === false) continue
    if (Array.isArray(c)) flatten(c, out)
    else out.push(typeof c === 'number' ? String(c) : c)
  }
}

/** An element; `null`/`undefined`/`false` children are left out, so optional elements read as `cond && x(...)`. */
export function x(name: string, ...content: Content[]): XmlNode {
  const children: Array<XmlNode | string> = []
  flatten(content, children)
  return { name, attrs: {}, children }
}

export function xa(name: string, attrs: Record<string, string | undefined>, ...content: Content[]): XmlNode {
  const node = x(name, ...content)
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) node.attrs[k] = v
  return node
}

/** An element only when its value is present. */
export function opt(name: string, value: string | number | null | undefined): XmlNode | null {
  return value === null || value === undefined || value === '' ? null : x(name, String(value))
}

// XML 1.0 §2.2: these code points may not appear in a document, not even escaped.
const forbidden = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g

const escapeText = (s: string) => s.replace(forbidden, '\uFFFD').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
const escapeAttr = (s: string) => escapeText(s).replace(/"/g, '&quot;')

function write(node: XmlNode, out: string[], rootAttrs: string): void {
  out.push('<', node.name, rootAttrs)
  for (const [k, v] of Object.entries(node.attrs)) out.push(' ', k, '="', escapeAttr(v), '"')
  if (node.children.length === 0) {
    out.push('/>')
    return
  }
  out.push('>')
  for (const c of node.children) {
    if (typeof c === 'string') out.push(escapeText(c))
    else write(c, out, '')
  }
  out.push('</', node.name, '>')
}

/** The document text, with the root in the default namespace `ns`. */
export function renderXml(root: XmlNode, ns: string): string {
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>\n']
  write(root, out, ` xmlns="${escapeAttr(ns)}"`)
  return out.join('')
}

/** A received element back as a node: its B2MML-namespace content only (extensions are not echoed). */
export function nodeOf(el: XmlElement, ns: string): XmlNode {
  const elements = el.children.filter((c) => c.ns === ns)
  const text = elements.length === 0 ? el.text.trim() : ''
  return { name: el.name, attrs: { ...el.attrs }, children: [...elements.map((c) => nodeOf(c, ns)), ...(text ? [text] : [])] }
}
