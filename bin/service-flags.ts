// The V8 flags and the C library setting the long-running services (takt edge, demo, sim) run with, and which of them a start still lacks.

/**
 * An 8 MiB young generation (V8 would take 16 MiB here). Smaller, scavenges come so often under
 * load that short-lived request objects survive into the old generation, whose collections then
 * pause the line's requests; larger, the process holds more memory for nothing (docs/storage.md, Memory).
 */
export const serviceFlags = ['--max-semi-space-size=8']

/** The options of a NODE_OPTIONS value: Node allows them quoted ("--import=…" "--max-semi-space-size=4"). */
export function nodeOptionsList(value: string | undefined): string[] {
  const tokens = (value ?? '').match(/"(?:\\.|[^"\\])*"|\S+/g) ?? []
  return tokens.map((o) => (o.startsWith('"') ? o.slice(1, -1).replace(/\\(.)/g, '$1') : o))
}

/** The service flags neither the command line nor NODE_OPTIONS sets already (any value of the same flag counts). */
export function missingServiceFlags(execArgv: readonly string[], nodeOptions: string | undefined): string[] {
  // V8 reads --a-b and --a_b alike, with its value after = or as the next argument.
  const name = (option: string) => option.split('=')[0]!.replaceAll('_', '-')
  const given = new Set([...execArgv, ...nodeOptionsList(nodeOptions)].map(name))
  return serviceFlags.filter((f) => !given.has(name(f)))
}

/**
 * glibc's malloc with a fixed mmap threshold of 1 MiB. By default the threshold rises to the size
 * of the largest block freed (up to 32 MiB): after one password check (scrypt's 16 MiB) or one
 * large buffer, later blocks of that size come from the heap, and their pages stay resident after
 * they are freed. Fixed, every block of 1 MiB or more is its own mapping, returned when freed
 * (docs/storage.md, Memory). Other C libraries ignore the variable.
 */
export const serviceEnvironment: Readonly<Record<string, string>> = { MALLOC_MMAP_THRESHOLD_: String(1024 * 1024) }

/** The service environment a start lacks: a threshold already set, as the variable or a glibc tunable, is kept. */
export function missingServiceEnvironment(env: NodeJS.ProcessEnv): Record<string, string> {
  if (env.MALLOC_MMAP_THRESHOLD_ !== undefined || /(^|:)glibc\.malloc\.mmap_threshold=/.test(env.GLIBC_TUNABLES ?? '')) return {}
  return { ...serviceEnvironment }
}
