// End-to-end check of the MES record (21 CFR 11.10(a), (e)): the hash chain, then every signature against its record.
import { AuditQueries } from './audit-queries.ts'
import type { Sqlite } from './database.ts'
import { verifyChain } from './event-log.ts'

export type AuditReport =
  | { ok: true; count: number; head: string; signatures: number }
  | { ok: false; count: number; broken: { seq: number; id: string; reason: string } }

/** The chain first (an edited row breaks it); a chain rewritten from the edit on still fails on a moved signature. */
export function verifyAudit(sqlite: Sqlite): AuditReport {
  const chain = verifyChain(sqlite)
  if (!chain.ok) return chain
  const signatures = new AuditQueries(sqlite).verifySignatures()
  if (!signatures.ok) return { ok: false, count: chain.count, broken: signatures.broken }
  return { ok: true, count: chain.count, head: chain.head, signatures: signatures.count }
}
