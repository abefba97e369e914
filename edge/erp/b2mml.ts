// B2MML versions and documents: the namespace tells the version family, the root element the verb and the noun.
import type { XmlElement } from './xml.ts'

/**
 * V0401–V06xx exchange production schedules (ProductionSchedule / ProductionRequest /
 * SegmentRequirement, answered by ProductionPerformance); V0700 and later exchange operations
 * schedules (OperationsSchedule / OperationsRequest / SegmentRequirement, answered by
 * OperationsPerformance) in the unversioned namespace.
 */
export type Family = 'production' | 'operations'

export interface Version {
  family: Family
  namespace: string
  /** The value Takt writes in a BOD's releaseID attribute. */
  release: string
}

const mesa = 'http://www.mesa.org/xml/B2MML'
const versioned = /^http:\/\/www\.mesa\.org\/xml\/B2MML-(V0[456]\d\d)$/

export const operationsNamespace = mesa

export function versionOf(namespace: string): Version | null {
  if (namespace === mesa) return { family: 'operations', namespace, release: 'V0701' }
  const m = versioned.exec(namespace)
  return m ? { family: 'production', namespace, release: m[1]! } : null
}

/** A namespace that looks like B2MML's but is none Takt reads (V01–V03, an extension namespace, a typo). */
export function looksLikeB2mml(namespace: string): boolean {
  return namespace.startsWith(mesa)
}

export const isExtensionNamespace = (namespace: string) => /-AllExtensions$/.test(namespace)

export type Verb = 'Sync' | 'Process' | 'Get'
const knownVerbs = ['Sync', 'Process', 'Get', 'Show', 'Acknowledge', 'Change', 'Respond', 'Cancel', 'Confirm'] as const

export type ScheduleNoun = 'ProductionSchedule' | 'OperationsSchedule'
export type MasterNoun =
  | 'MaterialInformation'
  | 'MaterialDefinition'
  | 'MaterialLot'
  | 'MaterialSubLot'
  | 'EquipmentInformation'
  | 'Equipment'
  | 'PersonnelInformation'
  | 'Person'
export type PerformanceNoun = 'ProductionPerformance' | 'OperationsPerformance'

export const masterNouns: readonly MasterNoun[] = [
  'MaterialInformation',
  'MaterialDefinition',
  'MaterialLot',
  'MaterialSubLot',
  'EquipmentInformation',
  'Equipment',
  'PersonnelInformation',
  'Person',
]

export const scheduleNoun: Record<Family, ScheduleNoun> = { production: 'ProductionSchedule', operations: 'OperationsSchedule' }
export const requestNoun: Record<Family, string> = { production: 'ProductionRequest', operations: 'OperationsRequest' }
export const performanceNoun: Record<Family, PerformanceNoun> = { production: 'ProductionPerformance', operations: 'OperationsPerformance' }

/** What a document asks for, read from its root element before anything else. */
export type DocumentKind =
  | { kind: 'schedule'; verb: Verb | null; noun: ScheduleNoun | 'ProductionRequest' | 'OperationsRequest' }
  | { kind: 'master'; verb: Verb | null; noun: MasterNoun }
  | { kind: 'get-performance'; verb: 'Get'; noun: PerformanceNoun }
  | { kind: 'unsupported'; verb: string | null; noun: string; reason: string }

function splitVerb(root: string): { verb: string | null; noun: string } {
  for (const v of knownVerbs) if (root.startsWith(v) && root.length > v.length && /^[A-Z]/.test(root.slice(v.length))) return { verb: v, noun: root.slice(v.length) }
  return { verb: null, noun: root }
}

export function documentKind(root: XmlElement, version: Version): DocumentKind {
  const { verb, noun } = splitVerb(root.name)
  const other: Family = version.family === 'production' ? 'operations' : 'production'
  const unsupported = (reason: string): DocumentKind => ({ kind: 'unsupported', verb, noun, reason })
  if (noun === scheduleNoun[other] || noun === requestNoun[other] || noun === performanceNoun[other]) {
    const era = version.family === 'production' ? 'B2MML V0401–V06xx exchange' : 'B2MML V0700 and later exchange'
    return unsupported(`${era} ${scheduleNoun[version.family]} and ${performanceNoun[version.family]}, not ${noun}; this document's namespace is ${version.namespace}.`)
  }
  const isSchedule = noun === scheduleNoun[version.family] || (verb === null && noun === requestNoun[version.family])
  const isMaster = (masterNouns as readonly string[]).includes(noun)
  if (verb === 'Get') {
    if (noun === performanceNoun[version.family]) return { kind: 'get-performance', verb: 'Get', noun: performanceNoun[version.family] }
    return unsupported(`Takt answers Get for ${performanceNoun[version.family]} only; read orders and master data through the JSON API.`)
  }
  if (verb !== null && verb !== 'Sync' && verb !== 'Process') {
    return unsupported(`Takt accepts the verbs Sync, Process and Get; send ${verb}${noun} as Sync${noun} with the whole ${noun}.`)
  }
  if (isSchedule) return { kind: 'schedule', verb: verb as Verb | null, noun: noun as ScheduleNoun }
  if (isMaster) return { kind: 'master', verb: verb as Verb | null, noun: noun as MasterNoun }
  if (noun === performanceNoun[version.family]) return unsupported(`Takt produces ${noun}; it does not accept one.`)
  return unsupported(`'${root.name}' is not a B2MML document Takt reads (schedules, material, equipment and personnel information, Get${performanceNoun[version.family]}).`)
}
