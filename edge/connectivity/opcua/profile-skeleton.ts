// A hardware-profile skeleton (YAML) from browsed variables: valid as it stands, for a technician to cut down and give meaning.
import type { BrowsedVariable, BrowseResult } from './browse.ts'
import type { SecurityModeName, SecurityPolicyName } from './session.ts'

export interface SkeletonOptions {
  /** The profile's name: lower-case letters, digits, _ . - and starting with a letter. */
  profile: string
  securityMode?: SecurityModeName
  securityPolicy?: SecurityPolicyName
  publishingIntervalMs?: number
  vendor?: string
  model?: string
}

/** StateCurrent → state_current, ProdProcessedCount[0] → prod_processed_count_0. */
function snake(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
}

/** Segment names of a relative path, without namespace prefixes and escapes. */
function segments(browsePath: string): string[] {
  return browsePath
    .split(/(?<!&)\//)
    .filter(Boolean)
    .map((s) => s.replace(/^\d+:/, '').replace(/&(.)/g, '$1'))
}

/**
 * Signal names from the browse name; a short one (ID, Val) and two that collide get the parent's
 * name in front, then the grandparent's, and a number as the last resort.
 */
function signalNames(variables: BrowsedVariable[]): string[] {
  const base = (v: BrowsedVariable, parents: number) => {
    const parts = segments(v.browsePath).slice(-1 - parents).map(snake).filter(Boolean)
    const name = parts.join('.') || 'signal'
    return /^[a-z]/.test(name) ? name : `s_${name}`
  }
  const names = variables.map((v) => (snake(v.browseName).length < 4 ? base(v, 1) : base(v, 0)))
  for (let parents = 1; parents <= 3; parents++) {
    const counts = new Map<string, number>()
    for (const n of names) counts.set(n, (counts.get(n) ?? 0) + 1)
    variables.forEach((v, i) => {
      if (counts.get(names[i]!)! > 1) names[i] = base(v, parents)
    })
  }
  const used = new Map<string, number>()
  return names.map((n) => {
    const k = (used.get(n) ?? 0) + 1
    used.set(n, k)
    return k === 1 ? n : `${n}_${k}`
  })
}

/** JSON strings are YAML double-quoted scalars: node ids with quotes and semicolons stay exact. */
const quoted = (text: string) => JSON.stringify(text)

/**
 * Every readable variable as a signal of kind `value`, so the skeleton loads as a profile at once;
 * a comment on each says its data type, access and place, for choosing kinds, units and state maps.
 */
export function profileSkeleton(result: BrowseResult, options: SkeletonOptions): string {
  if (!/^[a-z][a-z0-9_.-]*$/.test(options.profile)) throw new Error(`profile name '${options.profile}' must be lower-case letters, digits, _ . - and start with a letter`)
  const readable = result.variables.filter((v) => v.accessLevel.includes('CurrentRead'))
  if (readable.length === 0) throw new Error(`no readable variables under ${result.startNodeId} at ${result.endpoint}: browse from another node or deeper`)
  const names = signalNames(readable)
  const lines = [
    `# Drafted by browsing ${result.endpoint} from ${result.startNodeId}${result.truncated ? ' (the browse stopped at its limit: not every variable is here)' : ''}.`,
    '# Give each signal its kind (machine_state needs a stateMap, a measurement its unit) and delete what the MES does not need.',
    `profile: ${options.profile}`,
    'version: 1',
    ...(options.vendor ? [`vendor: ${quoted(options.vendor)}`] : []),
    ...(options.model ? [`model: ${quoted(options.model)}`] : []),
    'protocol: opcua',
    'connection:',
    `  securityMode: ${options.securityMode ?? 'None'}`,
    `  securityPolicy: ${options.securityPolicy ?? 'None'}`,
    `  publishingIntervalMs: ${options.publishingIntervalMs ?? 1000}`,
    'signals:',
  ]
  readable.forEach((v, i) => {
    lines.push(`  - name: ${names[i]}`, `    kind: value # ${v.dataType}, ${v.accessLevel.join('|')}, ${v.browsePath}`, `    nodeId: ${quoted(v.nodeId)}`)
  })
  return `${lines.join('\n')}\n`
}
