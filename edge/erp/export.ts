// Performance documents for ERP: an order's (or operation's) as-built in the version family it came in, as a Sync BOD or for a Show.
import type { Ids } from '../core/ports.ts'
import type { Sqlite } from '../store/database.ts'
import { AsBuiltReader } from './as-built.ts'
import { operationsNamespace, performanceNoun, versionOf, type Version } from './b2mml.ts'
import { performanceOf, performanceReady, type Scope } from './performance.ts'
import type { ErpRecords } from './records.ts'
import { renderXml, x, xa, type XmlNode } from './xml-write.ts'

export type Exported = { ok: true; noun: XmlNode; version: Version } | { ok: false; status: 404 | 409; code: string; message: string }

export interface ExportOptions {
  gatewayId: string
  /** The namespace for orders that did not come in as B2MML (created through the JSON API). */
  defaultNamespace: string
}

/** `V0600`, `V0401`…: that production namespace; `V0700` and later: the unversioned one. */
export function namespaceForVersion(label: string): string | null {
  if (/^V0[456]\d\d$/.test(label)) return `http://www.mesa.org/xml/B2MML-${label}`
  if (/^V(?:0[789]|1\d)\d\d$/.test(label)) return operationsNamespace
  return null
}

export class PerformanceExport {
  readonly #asBuilt: AsBuiltReader
  readonly #records: ErpRecords
  readonly #options: ExportOptions

  constructor(sqlite: Sqlite, records: ErpRecords, options: ExportOptions) {
    this.#asBuilt = new AsBuiltReader(sqlite)
    this.#records = records
    this.#options = options
  }

  /** The performance noun of an order or operation, once its as-built is final. */
  noun(orderId: string, scope: Scope, at: string, namespace?: string): Exported {
    const asBuilt = this.#asBuilt.read(orderId)
    if (!asBuilt) return { ok: false, status: 404, code: 'not_found', message: `There is no order '${orderId}'.` }
    const ready = performanceReady(asBuilt, scope)
    if (!ready.ready) return { ok: false, status: 409, code: 'performance_not_ready', message: ready.reason }
    const erp = this.#records.order(orderId)
    const version = versionOf(namespace ?? erp?.namespace ?? this.#options.defaultNamespace)!
    const noun = performanceOf({ asBuilt, erp, version, scope, lotOfSublot: (id) => this.#records.lotOfSublot(id) }, at)
    return { ok: true, noun, version }
  }

  /** Sync<Noun>Performance: what the outbox pushes and GET returns. */
  syncBod(exported: Extract<Exported, { ok: true }>, at: string, bodId: string): string {
    const { version } = exported
    const area = x('ApplicationArea', x('Sender', x('LogicalID', this.#options.gatewayId), x('ComponentID', 'Takt')), x('CreationDateTime', at), x('BODID', bodId))
    const root = xa(`Sync${performanceNoun[version.family]}`, { releaseID: version.release }, area, x('DataArea', x('Sync'), exported.noun))
    return renderXml(root, version.namespace)
  }

  /** A Sync BOD for the scope, or why there is none yet. */
  document(orderId: string, scope: Scope, at: string, ids: Ids, namespace?: string): { ok: true; xml: string } | Extract<Exported, { ok: false }> {
    const exported = this.noun(orderId, scope, at, namespace)
    return exported.ok ? { ok: true, xml: this.syncBod(exported, at, ids.next()) } : exported
  }
}
