// Loading hardware profiles: YAML parsed with positions, validated, every problem named with file, line and path.
import { readFileSync } from 'node:fs'
import { LineCounter, isNode, parseDocument } from 'yaml'
import type { z } from 'zod'
import { HardwareProfile } from './schema.ts'

export interface ProfileProblem {
  file: string
  line: number | null
  path: string
  message: string
}

export type ProfileResult = { ok: true; profile: HardwareProfile } | { ok: false; problems: ProfileProblem[] }

const pathText = (path: ReadonlyArray<PropertyKey>) => path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '') || '(top level)'

function semanticProblems(profile: HardwareProfile): Array<{ path: Array<string | number>; message: string }> {
  const out: Array<{ path: Array<string | number>; message: string }> = []
  const seen = new Map<string, number>()
  profile.signals.forEach((s, i) => {
    const first = seen.get(s.name)
    if (first !== undefined) out.push({ path: ['signals', i, 'name'], message: `signal '${s.name}' is already defined at signals[${first}]` })
    else seen.set(s.name, i)
    if (s.kind === 'machine_state' && !s.stateMap) out.push({ path: ['signals', i, 'stateMap'], message: 'a machine_state signal needs a stateMap from device values to Takt states' })
    if (s.kind === 'measurement' && !s.unit) out.push({ path: ['signals', i, 'unit'], message: 'a measurement needs its unit' })
  })
  return out
}

export type YamlResult<T> = { ok: true; value: T } | { ok: false; problems: ProfileProblem[] }

/**
 * Parses YAML with positions and validates it against `schema`, then `semantic` (rules across
 * fields): every problem with the file, the line and the path in the document.
 */
export function checkYamlText<T>(schema: z.ZodType<T>, text: string, file: string, semantic: (value: T) => Array<{ path: Array<string | number>; message: string }> = () => []): YamlResult<T> {
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, { lineCounter })
  if (doc.errors.length > 0) {
    return { ok: false, problems: doc.errors.map((e) => ({ file, line: e.linePos?.[0]?.line ?? null, path: '(yaml)', message: e.message.split('\n')[0] ?? e.message })) }
  }
  const lineOf = (path: ReadonlyArray<PropertyKey>): number | null => {
    for (let n = path.length; n >= 0; n--) {
      const node = doc.getIn(path.slice(0, n) as Array<string | number>, true)
      if (isNode(node) && node.range) return lineCounter.linePos(node.range[0]).line
    }
    return null
  }
  const parsed = schema.safeParse(doc.toJS())
  const problems: ProfileProblem[] = []
  if (!parsed.success) {
    for (const issue of parsed.error.issues as z.core.$ZodIssue[]) {
      const keys = issue.code === 'unrecognized_keys' ? issue.keys.map((k) => [...issue.path, k]) : [issue.path]
      for (const path of keys) problems.push({ file, line: lineOf(path), path: pathText(path), message: issue.code === 'unrecognized_keys' ? 'unknown key' : issue.message })
    }
    return { ok: false, problems }
  }
  for (const p of semantic(parsed.data)) problems.push({ file, line: lineOf(p.path), path: pathText(p.path), message: p.message })
  return problems.length > 0 ? { ok: false, problems } : { ok: true, value: parsed.data }
}

export function checkProfileText(text: string, file: string): ProfileResult {
  const result = checkYamlText(HardwareProfile, text, file, semanticProblems)
  return result.ok ? { ok: true, profile: result.value } : result
}

export function checkProfileFile(file: string): ProfileResult {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    return { ok: false, problems: [{ file, line: null, path: '(file)', message: `cannot be read: ${(error as NodeJS.ErrnoException).code ?? String(error)}` }] }
  }
  return checkProfileText(text, file)
}

export function formatProblem(p: ProfileProblem): string {
  return `${p.file}${p.line === null ? '' : `:${p.line}`}: ${p.path}: ${p.message}`
}
