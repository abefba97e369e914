// The batch record as a printable HTML document: every value from the record escaped, no script, one inline style sheet named by its hash in the content security policy.
import { createHash } from 'node:crypto'
import type { BatchRecord, RunRecord, SignatureRecord } from './batch-record.ts'
import { planVersusBuilt } from './plan-versus-built.ts'

/** Markup that is already safe: only `html` makes one, so a value from the record can never become markup. */
class Markup {
  readonly text: string
  constructor(text: string) {
    this.text = text
  }
}

const escapes: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }
export const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (ch) => escapes[ch] ?? ch)

type Part = Markup | string | number | boolean | null | undefined | Part[]

function render(v: Part): string {
  if (v === null || v === undefined || v === false) return ''
  if (v instanceof Markup) return v.text
  if (Array.isArray(v)) return v.map(render).join('')
  return escapeHtml(String(v))
}

/** A template whose every interpolation is escaped, unless it is itself the result of `html`. */
function html(strings: TemplateStringsArray, ...values: Part[]): Markup {
  return new Markup(strings.reduce((out, s, i) => out + s + (i < values.length ? render(values[i]!) : ''), ''))
}

const style = `
@page { size: A4; margin: 16mm 14mm 18mm; @bottom-right { content: "Page " counter(page) " of " counter(pages); font: 8pt sans-serif; } }
body { font: 10pt/1.35 'Liberation Sans', 'DejaVu Sans', sans-serif; color: #111; margin: 0 auto; max-width: 190mm; }
h1 { font-size: 16pt; margin: 0 0 2mm; } h2 { font-size: 12pt; margin: 6mm 0 2mm; border-bottom: 1px solid #555; break-after: avoid; }
h3 { font-size: 10.5pt; margin: 4mm 0 1mm; break-after: avoid; }
table { border-collapse: collapse; width: 100%; margin: 1mm 0 3mm; }
th, td { border: 1px solid #999; padding: 1mm 1.5mm; text-align: left; vertical-align: top; }
th { background: #eee; } tr { break-inside: avoid; } thead { display: table-header-group; }
dl.facts { display: grid; grid-template-columns: max-content 1fr max-content 1fr; gap: 1mm 4mm; margin: 0 0 3mm; }
dl.facts dt { font-weight: bold; } dl.facts dd { margin: 0; }
.pass { color: #0a5d1e; font-weight: bold; } .fail { color: #a30000; font-weight: bold; } .muted { color: #555; }
.differs { background: #fff3cd; } section { break-inside: auto; }
@media screen { body { padding: 8mm; } }
`
/** The content security policy of a record: no script at all, only this style sheet. */
export const recordCsp = `default-src 'none'; style-src 'sha256-${createHash('sha256').update(style).digest('base64')}'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'`

const utc = (iso: string | null) => (iso ? iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC') : '–')
const qty = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(4).replace(/0+$/, ''))
const limits = (m: { lower: number | null; upper: number | null; unit: string }) =>
  m.lower !== null && m.upper !== null ? `${m.lower} – ${m.upper} ${m.unit}` : m.upper !== null ? `≤ ${m.upper} ${m.unit}` : m.lower !== null ? `≥ ${m.lower} ${m.unit}` : `no limits (${m.unit})`

function facts(pairs: Array<[string, Part]>): Markup {
  return html`<dl class="facts">${pairs.map(([k, v]) => html`<dt>${k}</dt><dd>${v}</dd>`)}</dl>`
}

function table(caption: string | null, head: string[], rows: Part[][], empty: string): Markup {
  if (rows.length === 0) return html`<p class="muted">${empty}</p>`
  return html`<table>${caption ? html`<caption class="muted">${caption}</caption>` : null}<thead><tr>${head.map((h) => html`<th>${h}</th>`)}</tr></thead><tbody>${rows.map((r) => html`<tr>${r.map((c) => html`<td>${c}</td>`)}</tr>`)}</tbody></table>`
}

function runSection(run: RunRecord): Markup {
  return html`<h3>Run ${run.id}${run.unitSerial ? `, unit ${run.unitSerial}` : `, quantity ${qty(run.quantity)}`}</h3>
${facts([
  ['Work center', `${run.workCenterName} (${run.workCenterId})`],
  ['Operator', run.operator],
  ['Started', utc(run.startedAt)],
  ['Ended', utc(run.endedAt)],
  ['State', run.state],
  ['Good / scrap', `${qty(run.good)} / ${qty(run.scrap)}`],
])}
${table('Material consumed', ['Lot or unit', 'Material', 'Quantity', 'At'], run.consumptions.map((c) => [`${c.id}${c.kind === 'unit' ? ' (unit)' : ''}`, c.materialId, qty(c.quantity), utc(c.at)]), 'No material consumed.')}
${table(
  'Measurements',
  ['Characteristic', 'Value', 'Limits', 'Result', 'At'],
  run.measurements.map((m) => [m.name, `${m.value} ${m.unit}`, limits(m), m.withinLimits ? html`<span class="pass">PASS</span>` : html`<span class="fail">FAIL</span>`, utc(m.at)]),
  'No measurements.',
)}
${run.pauses.length ? table('Interruptions', ['Reason', 'By', 'At'], run.pauses.map((p) => [p.reason, p.by, utc(p.at)]), '') : null}`
}

const deviationNames: Record<string, string> = {
  order_hold: 'Order held',
  order_hold_released: 'Order hold released',
  unit_hold: 'Unit held',
  unit_hold_released: 'Unit hold released',
  correction: 'As-built data corrected',
  cancelled: 'Order cancelled',
}

/**
 * Where electronic signatures appear: each with the signer's printed name, the meaning, UTC and
 * local time, and the record it signs (21 CFR 11.50, 11.70); one that no longer matches says so.
 */
export function signatureSection(signatures: SignatureRecord[]): Markup {
  return html`<h2>Electronic signatures</h2>
${table(
  null,
  ['Signer', 'Meaning', 'Signed (UTC)', 'Signed (local time)', 'Signed record', 'Reason', 'Check'],
  signatures.map((s) => [
    `${s.signerName} (${s.signerId})`,
    s.meaning,
    utc(s.signedAt),
    `${s.localTime} ${s.timeZone}`,
    `${s.signedType} ${s.signedSubject}, event ${s.signedSeq}`,
    s.reason ?? '–',
    s.valid ? html`<span class="pass">bound to the record</span>` : html`<span class="fail">does not match: ${s.problem ?? 'altered'}</span>`,
  ]),
  'No electronic signature on this record.',
)}`
}

export function recordHtml(r: BatchRecord): string {
  const unitScope = r.scope.kind === 'unit' ? r.scope.serial : null
  const title = unitScope ? `Device history record: unit ${unitScope}` : `Batch record: order ${r.order.id}`
  const scrap = r.operations.flatMap((op) => op.runs.flatMap((run) => run.scrapReasons.map((s) => [String(op.seq), run.unitSerial ?? run.id, s.reason, qty(s.quantity)])))
  const plan = planVersusBuilt(r)
  const body = html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${title}</title><style>${new Markup(style)}</style></head>
<body>
<header>
<h1>${title}</h1>
${facts([
  ['Order', r.order.id],
  ['Product', r.order.productId],
  ['Quantity', qty(r.order.quantity)],
  ['Order state', r.order.state],
  ['Line', r.order.lineId],
  ['Output lot', r.order.outputLot],
  ['Routing', `${r.order.routingId} version ${r.order.routingVersion}`],
  ['BOM', `${r.order.bomId} version ${r.order.bomVersion}`],
  ['Created', utc(r.order.createdAt)],
  ['Due', utc(r.order.dueAt)],
  ['Printed', utc(r.generatedAt)],
  ['Through event', String(r.throughSeq)],
])}
</header>
<section><h2>${unitScope ? 'Unit' : 'Units'}</h2>
${r.order.serialized ? table(null, ['Serial', 'State', 'On hold'], r.units.map((u) => [u.serial, u.state, u.held ? `yes: ${u.holdReason ?? ''}` : 'no']), 'No units released yet.') : html`<p>Lot-based order: the output lot is ${r.order.outputLot}.</p>`}
</section>
<section><h2>Operations as built</h2>
${r.operations.map(
  (op) => html`<h3>Operation ${op.seq} ${op.name}</h3>
${facts([
  ['Planned work center', op.workCenterId],
  ['State', op.state],
  ['Good / scrap', `${qty(op.qtyGood)} / ${qty(op.qtyScrap)}`],
  ['Started / completed', `${utc(op.startedAt)} / ${utc(op.completedAt)}`],
])}
${op.runs.length ? op.runs.map(runSection) : html`<p class="muted">Not run${unitScope ? ' on this unit' : ''}.</p>`}`,
)}
</section>
<section><h2>As planned vs as built</h2>
<p>Planned: routing ${r.order.routingId} version ${r.order.routingVersion} (the operations copied into the order when it was created) and BOM ${r.order.bomId} version ${r.order.bomVersion}${r.planned.bom ? '' : ' (not defined on this gateway)'}. Built: the runs, work centers and lots recorded above.</p>
${table(
  null,
  ['Operation', 'Planned', 'As built', 'Agrees'],
  plan.map((row) => [row.operation, row.planned, row.built, row.agrees === null ? html`<span class="muted">not yet</span>` : row.agrees ? html`<span class="pass">yes</span>` : html`<span class="fail">no</span>`]),
  'The order has no operations.',
)}
</section>
<section><h2>Deviations</h2>
<h3>Refused scans</h3>
${table(null, ['Operation', 'Lot', 'Quantity', 'Refusal', 'By', 'At'], r.refusals.map((f) => [String(f.opSeq), f.lotId, qty(f.quantity), `${f.code}: ${f.reason}`, f.by, utc(f.at)]), 'No scan was refused.')}
<h3>Holds, releases and corrections</h3>
${table(null, ['What', 'Subject', 'Reason', 'By', 'At'], r.deviations.map((d) => [deviationNames[d.kind] ?? d.kind, d.subject, d.text, d.by, utc(d.at)]), 'No hold, release or correction.')}
<h3>Nonconformances</h3>
${table(
  null,
  ['Nonconformance', 'Operation', 'Unit', 'Reason', 'Opened', 'State', 'Disposition'],
  r.nonconformances.map((n) => [n.id, String(n.opSeq), n.unitSerial ?? '–', n.reason, `${utc(n.openedAt)} by ${n.openedBy}`, n.state, n.disposition ? `${n.disposition}, ${utc(n.dispositionedAt)} by ${n.dispositionedBy ?? '–'}` : 'open']),
  'No nonconformance.',
)}
<h3>Scrap</h3>
${table(null, ['Operation', 'Unit or run', 'Reason', 'Quantity'], scrap, 'Nothing scrapped.')}
</section>
<section>${signatureSection(r.signatures)}</section>
<footer><p class="muted">Printed by the Takt gateway from its event log through event ${String(r.throughSeq)}. Times in UTC unless marked local.</p></footer>
</body></html>`
  return body.text
}
