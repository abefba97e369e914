// Typed reads of B2MML elements that collect every problem with the element path and line, instead of stopping at the first.
import { pathOfRef, refOf, type PathRef, type XmlElement } from './xml.ts'

export type ProblemCode =
  | 'b2mml_version_unknown'
  | 'b2mml_document_unsupported'
  | 'b2mml_element_missing'
  | 'b2mml_value_invalid'
  | 'b2mml_unmappable'
  | 'b2mml_duplicate'

/** Where in the document something came from: for messages, confirmations and records. */
export interface At {
  path: string
  line: number
  column: number
}

/** One thing wrong with a document. Core refusals keep their own code and status. */
export interface Problem extends At {
  code: string
  status: number
  message: string
}

/** The path is worked out only when asked for (a problem, a record): a schedule has thousands of elements and few problems. */
class ElementAt implements At {
  readonly line: number
  readonly column: number
  readonly #ref: PathRef
  #path: string | undefined

  constructor(el: XmlElement) {
    this.line = el.line
    this.column = el.column
    this.#ref = refOf(el)
  }

  get path(): string {
    return (this.#path ??= pathOfRef(this.#ref))
  }
}

export function atOf(el: XmlElement): At {
  return new ElementAt(el)
}

const idPattern = /^[A-Za-z0-9][A-Za-z0-9._:\-/]*$/
const decimal = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/
// xsd:dateTime with a time zone: a local time without one is ambiguous for a line that may sit in another zone than ERP.
const dateTime = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/
const duration = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/

/**
 * A problem at a place. Its path is worked out when first read, after the whole document is
 * parsed: only then is it known whether a name repeats among its siblings.
 */
export function problemAt(at: At, code: string, status: number, message: string): Problem {
  return {
    get path() {
      return at.path
    },
    line: at.line,
    column: at.column,
    code,
    status,
    message,
  }
}

export class Reader {
  readonly ns: string
  readonly problems: Problem[] = []

  constructor(ns: string) {
    this.ns = ns
  }

  problem(el: XmlElement, code: ProblemCode, message: string, status = 422): void {
    this.problems.push(problemAt(atOf(el), code, status, message))
  }

  /** Children in the document's B2MML namespace with this local name; extension elements are not B2MML's and are skipped. */
  all(el: XmlElement, name: string): XmlElement[] {
    return el.children.filter((c) => c.name === name && c.ns === this.ns)
  }

  one(el: XmlElement, name: string): XmlElement | undefined {
    return el.children.find((c) => c.name === name && c.ns === this.ns)
  }

  /** An element's trimmed character data; undefined when absent or empty. */
  text(el: XmlElement | undefined, name?: string): string | undefined {
    const target = el && name !== undefined ? this.one(el, name) : el
    const value = target?.text.trim()
    return value ? value : undefined
  }

  texts(el: XmlElement, name: string): string[] {
    return this.all(el, name).flatMap((c) => {
      const t = c.text.trim()
      return t ? [t] : []
    })
  }

  required(el: XmlElement, name: string, why: string): string | undefined {
    const value = this.text(el, name)
    if (value === undefined) this.problem(el, 'b2mml_element_missing', `${el.name} needs ${article(name)} ${name}: ${why}.`)
    return value
  }

  /** A Takt identifier: letters, digits and . _ : - /, at most 128 characters. */
  id(el: XmlElement, name: string, why: string | null): string | undefined {
    const value = why === null ? this.text(el, name) : this.required(el, name, why)
    if (value === undefined) return undefined
    if (!idPattern.test(value) || value.length > 128) {
      this.problem(this.one(el, name) ?? el, 'b2mml_value_invalid', `${name} '${clip(value)}' is not a Takt identifier (letters, digits and . _ : - /, at most 128 characters).`)
      return undefined
    }
    return value
  }

  ids(el: XmlElement, name: string): string[] {
    const out: string[] = []
    for (const c of this.all(el, name)) {
      const value = c.text.trim()
      if (!idPattern.test(value) || value.length > 128) this.problem(c, 'b2mml_value_invalid', `${name} '${clip(value)}' is not a Takt identifier (letters, digits and . _ : - /, at most 128 characters).`)
      else out.push(value)
    }
    return out
  }

  /** An xsd:dateTime with a zone, as an ISO 8601 UTC instant. */
  dateTime(el: XmlElement, name: string): string | null {
    const target = this.one(el, name)
    const value = this.text(target)
    if (value === undefined) return null
    const ms = dateTime.test(value) ? Date.parse(value) : Number.NaN
    if (Number.isNaN(ms)) {
      this.problem(target!, 'b2mml_value_invalid', `${name} '${clip(value)}' is not an xsd:dateTime with a time zone (e.g. 2026-03-01T06:00:00Z or 2026-03-01T07:00:00+01:00).`)
      return null
    }
    return new Date(ms).toISOString()
  }

  /** An xsd:duration in seconds; years and months are refused (their length depends on the date). */
  duration(target: XmlElement, value: string): number | null {
    const m = duration.exec(value)
    if (!m || value === 'P' || value.endsWith('T')) {
      this.problem(target, 'b2mml_value_invalid', `'${clip(value)}' is not an xsd:duration in days, hours, minutes and seconds (e.g. PT1H30M).`)
      return null
    }
    return Number(m[1] ?? 0) * 86400 + Number(m[2] ?? 0) * 3600 + Number(m[3] ?? 0) * 60 + Number(m[4] ?? 0)
  }

  decimal(target: XmlElement, value: string, what: string): number | null {
    const n = decimal.test(value) ? Number(value) : Number.NaN
    if (!Number.isFinite(n)) {
      this.problem(target, 'b2mml_value_invalid', `${what} '${clip(value)}' is not a decimal number.`)
      return null
    }
    return n
  }

  /** The first Quantity of an element: its QuantityString as a number and its UnitOfMeasure. */
  quantity(el: XmlElement, why: string | null): { value: number; uom: string | null; el: XmlElement } | null {
    const q = this.one(el, 'Quantity')
    const text = q && this.text(q, 'QuantityString')
    if (!q || text === undefined) {
      if (why !== null) this.problem(el, 'b2mml_element_missing', `${el.name} needs a Quantity with a QuantityString: ${why}.`)
      return null
    }
    const value = this.decimal(this.one(q, 'QuantityString')!, text, 'QuantityString')
    return value === null ? null : { value, uom: this.text(q, 'UnitOfMeasure') ?? null, el: q }
  }

  /** The Value children of a parameter or property: string, unit and key of each. */
  values(el: XmlElement): Array<{ el: XmlElement; value: string; uom: string | null; key: string | null }> {
    return this.all(el, 'Value').map((v) => ({ el: v, value: this.text(v, 'ValueString') ?? '', uom: this.text(v, 'UnitOfMeasure') ?? null, key: this.text(v, 'Key') ?? null }))
  }

  description(el: XmlElement): string | undefined {
    return this.text(el, 'Description')
  }
}

const article = (word: string) => (/^[AEIOU]/.test(word) ? 'an' : 'a')

export function clip(value: string, max = 60): string {
  return value.length > max ? `${value.slice(0, max)}…` : value
}
