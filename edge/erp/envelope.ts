// Opening a B2MML document: safe parse, version by namespace, verb and noun by root element, the BOD's ApplicationArea and DataArea.
import { documentKind, isExtensionNamespace, looksLikeB2mml, operationsNamespace, versionOf, type DocumentKind, type Version } from './b2mml.ts'
import { atOf, clip, problemAt, type Problem } from './read.ts'
import { parseXml, XmlRefusal, type XmlElement } from './xml.ts'

export interface Envelope {
  version: Version
  kind: Exclude<DocumentKind, { kind: 'unsupported' }>
  root: XmlElement
  applicationArea: XmlElement | null
  releaseId: string | null
  bodId: string | null
  /** The noun elements: the DataArea's for a BOD, the root itself for a bare noun. */
  nouns: XmlElement[]
}

export type Opened = { ok: true; envelope: Envelope } | { ok: false; problems: Problem[]; version: Version | null; root: XmlElement | null }

const fallback: Version = versionOf(operationsNamespace)!

export { fallback as fallbackVersion }

function refused(problems: Problem[], version: Version | null = null, root: XmlElement | null = null): Opened {
  return { ok: false, problems, version, root }
}

/** Every element whose namespace is another B2MML version's: a document mixing versions is not read. */
export function mixedNamespaces(root: XmlElement, version: Version): Problem[] {
  const out: Problem[] = []
  const visit = (el: XmlElement) => {
    if (out.length >= 20) return
    if (el.ns !== version.namespace && looksLikeB2mml(el.ns) && !isExtensionNamespace(el.ns)) {
      out.push(problemAt(atOf(el), 'b2mml_version_unknown', 422, `Element ${el.name} is in namespace ${el.ns}, but the document is ${version.namespace}; one document is one B2MML version.`))
      return
    }
    for (const c of el.children) visit(c)
  }
  visit(root)
  return out
}

function unknownVersion(root: XmlElement): Problem {
  const message =
    root.ns === ''
      ? `The root element ${root.name} has no namespace: B2MML elements are in http://www.mesa.org/xml/B2MML (V0700 and later) or http://www.mesa.org/xml/B2MML-V0401 … -V0600.`
      : looksLikeB2mml(root.ns)
        ? `Namespace ${root.ns} is not a B2MML version Takt reads: V0401 to V06xx (http://www.mesa.org/xml/B2MML-V0600 …) or V0700 and later (http://www.mesa.org/xml/B2MML).`
        : `Namespace ${clip(root.ns, 120)} is not B2MML's (http://www.mesa.org/xml/B2MML…).`
  return problemAt(atOf(root), 'b2mml_version_unknown', 422, message)
}

export function openDocument(text: string, take?: (el: XmlElement) => boolean): Opened {
  let root: XmlElement
  try {
    root = parseXml(text, undefined, take)
  } catch (error) {
    if (!(error instanceof XmlRefusal)) throw error
    return refused([{ path: '/', line: error.line, column: error.column, code: error.code, status: 400, message: error.message }])
  }
  const version = versionOf(root.ns)
  if (!version) return refused([unknownVersion(root)], null, root)
  const mixed = mixedNamespaces(root, version)
  if (mixed.length > 0) return refused(mixed, version, root)
  const kind = documentKind(root, version)
  if (kind.kind === 'unsupported') return refused([problemAt(atOf(root), 'b2mml_document_unsupported', 422, kind.reason)], version, root)
  if (kind.verb === null) return { ok: true, envelope: { version, kind, root, applicationArea: null, releaseId: null, bodId: null, nouns: [root] } }
  const inNs = (el: XmlElement, name: string) => el.children.filter((c) => c.ns === version.namespace && c.name === name)
  const [applicationArea] = inNs(root, 'ApplicationArea')
  const [dataArea] = inNs(root, 'DataArea')
  const problems: Problem[] = []
  const missing = (el: XmlElement, what: string, why: string) => problems.push(problemAt(atOf(el), 'b2mml_element_missing', 422, `${el.name} needs ${what}: ${why}.`))
  if (!applicationArea) missing(root, 'an ApplicationArea', 'it identifies the BOD and its sender')
  if (!dataArea) missing(root, 'a DataArea', 'it carries the verb and the nouns')
  else {
    if (inNs(dataArea, kind.verb).length === 0) missing(dataArea, `a ${kind.verb} element`, `it is the verb of ${root.name}`)
    if (inNs(dataArea, kind.noun).length === 0) missing(dataArea, `a ${kind.noun}`, 'it is what the document is about')
  }
  if (problems.length > 0) return refused(problems, version, root)
  const bodId = applicationArea?.children.find((c) => c.ns === version.namespace && c.name === 'BODID')?.text.trim() || null
  const envelope: Envelope = { version, kind, root, applicationArea: applicationArea ?? null, releaseId: root.attrs.releaseID ?? null, bodId, nouns: inNs(dataArea!, kind.noun) }
  return { ok: true, envelope }
}
