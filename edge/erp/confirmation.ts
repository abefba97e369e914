// The answer to every inbound document: Acknowledge<Noun> for Process, ConfirmBOD for Sync (and bare nouns), Show<Noun> for Get — each listing every error.
import type { Verb, Version } from './b2mml.ts'
import type { Problem } from './read.ts'
import { nodeOf, renderXml, x, xa, type XmlNode } from './xml-write.ts'
import type { XmlElement } from './xml.ts'

export interface Answer {
  version: Version
  verb: Verb | null
  noun: string
  /** The inbound BOD's ApplicationArea and releaseID, when it had one. */
  applicationArea: XmlElement | null
  releaseId: string | null
  accepted: boolean
  problems: Problem[]
  summary: string
  notes: string[]
  /** Process: the nouns received, acknowledged back as the schema wants at least one. */
  echo: XmlElement[]
  /** Get: the nouns shown. */
  shown: XmlNode[]
}

export interface AnswerContext {
  gatewayId: string
  now: string
  bodId: string
}

export const where = (p: Problem) => `${p.path} (line ${p.line}, column ${p.column})`

function applicationArea(a: Answer, ctx: AnswerContext): XmlNode {
  const sender = a.applicationArea && a.applicationArea.children.find((c) => c.name === 'Sender')
  const logicalId = sender?.children.find((c) => c.name === 'LogicalID')?.text.trim()
  return x(
    'ApplicationArea',
    x('Sender', x('LogicalID', ctx.gatewayId), x('ComponentID', 'Takt')),
    logicalId && x('Receiver', x('LogicalID', logicalId)),
    x('CreationDateTime', ctx.now),
    x('BODID', ctx.bodId),
  )
}

function original(a: Answer): XmlNode | null {
  if (!a.applicationArea) return null
  const node = nodeOf(a.applicationArea, a.version.namespace)
  return { ...node, name: 'OriginalApplicationArea' }
}

/** One ResponseCriteria per error (the XPath of the element, the code, the message with its line); one Accepted otherwise. */
function responseCriteria(a: Answer): XmlNode[] {
  if (a.accepted) {
    return [x('ResponseCriteria', xa('ResponseExpression', { actionCode: 'Accepted' }), x('ChangeStatus', x('Code', 'Accepted'), x('Description', a.summary)))]
  }
  return a.problems.map((p) =>
    x(
      'ResponseCriteria',
      xa('ResponseExpression', { actionCode: 'Rejected', expressionLanguage: 'XPath' }, p.path),
      x('ChangeStatus', x('Code', 'Rejected'), x('Description', `${where(p)}: ${p.message}`), x('ReasonCode', p.code)),
    ),
  )
}

/** The answer document, as text. */
export function renderAnswer(a: Answer, ctx: AnswerContext): string {
  const ns = a.version.namespace
  const release = a.releaseId ?? a.version.release
  if (a.verb === 'Process') {
    const ack = x('Acknowledge', original(a), responseCriteria(a))
    return renderXml(xa(`Acknowledge${a.noun}`, { releaseID: release }, applicationArea(a, ctx), x('DataArea', ack, a.echo.map((e) => nodeOf(e, ns)))), ns)
  }
  if (a.verb === 'Get' && a.accepted) {
    const show = x('Show', original(a), responseCriteria(a))
    return renderXml(xa(`Show${a.noun}`, { releaseID: release }, applicationArea(a, ctx), x('DataArea', show, a.shown)), ns)
  }
  const descriptions = a.accepted ? [a.summary] : [a.summary, ...a.problems.map((p) => `${where(p)}: ${p.message} [${p.code}]`)]
  const bod = x('BOD', original(a), descriptions.map((d) => x('Description', d)), a.notes.map((n) => x('Note', n)))
  return renderXml(x('ConfirmBOD', applicationArea(a, ctx), x('DataArea', x('Confirm', original(a), responseCriteria(a)), bod)), ns)
}
