// Electronic signatures over HTTP (21 CFR 11.50, 11.70, 11.200): re-authentication, two-person rules, signing records and reading them back.
import { z } from '@hono/zod-openapi'
import type { Context } from 'hono'
import { accept } from '../../core/decision.ts'
import { performerConflict, signatureEvent, signatureMeanings, signFirst, type SignatureManifest, type SignatureRequest, type SignedAction } from '../../core/signatures.ts'
import { AuditQueries } from '../../store/audit-queries.ts'
import { toRecorded } from '../../store/event-log.ts'
import type { Decide } from '../../store/line-store.ts'
import type { Role } from '../../core/model.ts'
import { bearerOf, guard, recordLockout, type AuthEnv } from '../auth.ts'
import { command, type Api, type ApiDeps } from '../context.ts'
import { ProblemError } from '../problem.ts'
import { declare, valid } from '../route.ts'

const idText = z.string().min(1).max(128).regex(/^[A-Za-z0-9][A-Za-z0-9._:\-/]*$/, 'letters, digits and . _ : - / only')

export const SignatureInput = z
  .strictObject({
    meaning: z.enum(signatureMeanings).describe('What the signature means (21 CFR 11.50(a)(3))'),
    username: idText.optional().describe("Your user id: needed at a password session's first signing"),
    password: z.string().min(1).max(200).optional(),
    badgeId: idText.optional().describe("Your badge: needed at a badge session's first signing"),
    pin: z.string().min(1).max(64).optional(),
    reason: z.string().min(1).max(1000).optional(),
  })
  .openapi('SignatureInput')
export type SignatureInput = z.infer<typeof SignatureInput>

export type SigningRequest = Omit<SignatureRequest, 'at' | 'signatureId'>

/**
 * Re-authenticates the signer of an action. Without a signature the action goes unsigned unless
 * configuration requires one; `performers` are the actors a two-person rule keeps from signing.
 */
export async function signerFor(deps: ApiDeps, c: Context<AuthEnv>, action: SignedAction, input: SignatureInput | undefined, performers: () => string[]): Promise<SigningRequest | null> {
  const policy = deps.accounts.signaturePolicy
  if (input === undefined) {
    if (!policy.required.includes(action)) return null
    throw new ProblemError(422, 'signature_required', `This action (${action}) needs an electronic signature: send signature with its meaning and your password (and your user id at the first signing of a session).`, {
      errors: [{ path: 'json.signature', message: 'required' }],
    })
  }
  const signing = await deps.accounts.sign(bearerOf(c), c.get('principal'), input, deps.clock.now())
  if (!signing.ok) {
    const principal = c.get('principal')
    const recordedSeq = signing.lockout ? await recordLockout(deps, signing.lockout, 'signing', principal.terminal, principal) : null
    throw new ProblemError(signing.status, signing.code, signing.message, recordedSeq ? { recordedSeq } : {})
  }
  if (policy.twoPerson.includes(action) && performerConflict(performers(), signing.signer.id)) {
    throw new ProblemError(403, 'two_person_rule', `${signing.signer.name} performed this and may not also sign it (${action} needs a second person); nothing was recorded.`, { action })
  }
  return { signer: signing.signer, meaning: input.meaning, reason: input.reason ?? null, timeZone: policy.timeZone }
}

/** Runs a command whose first event is signed in the same append, bound to the seq the log gives it. */
export function signedCommand<R>(deps: ApiDeps, c: Context<AuthEnv>, signing: SigningRequest | null, decide: Decide<R>): Promise<{ result: R; seq: number }> {
  if (!signing) return command(deps, c, decide)
  // Decided inside the write transaction: the head read here is the one the events are appended after.
  return command(deps, c, (view, ctx) => signFirst(decide(view, ctx), deps.store.head().seq + 1, { ...signing, at: ctx.now, signatureId: ctx.nextId() }))
}

const PathSeq = z.object({ seq: z.coerce.number().int().min(1).openapi({ param: { name: 'seq', in: 'path' } }) })
const SignRecord = z.strictObject({ signature: SignatureInput }).openapi('SignRecord')

/** Kinds of record a page shows with their signatures, and who may read each kind's (as its own read route allows). */
const listedKinds: Record<string, readonly Role[]> = {
  order: ['operator', 'lead', 'quality', 'maintenance', 'integration'],
  unit: ['operator', 'lead', 'quality', 'maintenance', 'integration'],
  lot: ['operator', 'lead', 'quality', 'maintenance', 'integration'],
  nonconformance: ['quality', 'lead'],
}
const maxListedSubjects = 500
const SignaturesQuery = z.strictObject({
  subjects: z
    .string()
    .max(64 * 1024)
    .optional()
    .describe(`Comma-separated record subjects, e.g. order/PO-1,nonconformance/NC-7 (at most ${maxListedSubjects}; kinds: ${Object.keys(listedKinds).join(', ')})`),
})

export function signatureRoutes(app: Api, deps: ApiDeps): void {
  const audit = new AuditQueries(deps.store.db.sqlite)

  app.openapi(declare({ method: 'get', path: '/api/v1/records/{seq}', tag: 'Signatures', summary: 'One record of the event log with the signatures it carries', params: PathSeq }), (c) => {
    guard(c, ['quality', 'lead', 'integration'])
    const { seq } = valid(c, 'param', PathSeq)
    const row = audit.event(seq)
    if (!row) throw new ProblemError(404, 'not_found', `There is no record with seq ${seq}.`)
    const signatures = audit.signaturesOf(row.subject).filter((s) => s.signedSeq === seq)
    return c.json({ record: toRecorded(row), signatures }, 200)
  })

  // 21 CFR 11.50(b): a page listing many records shows each one's signatures with one request, not one per row.
  app.openapi(declare({ method: 'get', path: '/api/v1/signatures', tag: 'Signatures', summary: 'The signatures of several records at once, by subject, each re-checked', query: SignaturesQuery }), (c) => {
    guard(c, listedKinds.order!)
    const { subjects } = valid(c, 'query', SignaturesQuery)
    const list = [...new Set((subjects ?? '').split(',').filter((s) => s !== ''))]
    if (list.length === 0) throw new ProblemError(422, 'query_invalid', "Name the records in 'subjects', e.g. subjects=order/PO-1,nonconformance/NC-7.", { errors: [{ path: 'query.subjects', message: 'required' }] })
    if (list.length > maxListedSubjects) throw new ProblemError(422, 'query_invalid', `'subjects' names ${list.length} records; at most ${maxListedSubjects} at once.`, { errors: [{ path: 'query.subjects', message: 'too many' }] })
    for (const [i, subject] of list.entries()) {
      const slash = subject.indexOf('/')
      const kind = subject.slice(0, slash)
      const roles = slash > 0 ? listedKinds[kind] : undefined
      if (!roles || !idText.safeParse(subject.slice(slash + 1)).success) {
        throw new ProblemError(422, 'query_invalid', `'subjects' item ${i + 1} ('${subject.slice(0, 140)}') is not a record subject: write kind/id with kind one of ${Object.keys(listedKinds).join(', ')}.`, { errors: [{ path: `query.subjects.${i}`, message: 'not a record subject' }] })
      }
      guard(c, roles)
    }
    return c.json({ items: Object.fromEntries(list.map((subject) => [subject, audit.signaturesOf(subject)])) }, 200)
  })

  app.openapi(
    declare({ method: 'post', path: '/api/v1/records/{seq}/signatures', tag: 'Signatures', summary: 'Sign a recorded event, e.g. approve a master-data change (re-authenticates)', params: PathSeq, body: SignRecord, status: 201 }),
    async (c) => {
      guard(c, ['quality', 'lead'])
      const { seq } = valid(c, 'param', PathSeq)
      const { signature } = valid(c, 'json', SignRecord)
      const row = audit.event(seq)
      if (!row) throw new ProblemError(404, 'not_found', `There is no record with seq ${seq}.`)
      if (row.type === 'RecordSigned') throw new ProblemError(422, 'not_signable', `Record ${seq} is itself a signature; sign the record it signs.`)
      const signing = await signerFor(deps, c, 'record-approval', signature, () => [row.actor])
      const record = { seq: row.seq, type: row.type, subject: row.subject, data: toRecorded(row).data as unknown }
      const { result, seq: at } = await command(deps, c, (_view, ctx) => {
        const e = signatureEvent(record, { ...signing!, at: ctx.now, signatureId: ctx.nextId() })
        return accept([e], e.data as SignatureManifest)
      })
      return c.json({ seq: at, signature: result }, 201)
    },
  )
}
