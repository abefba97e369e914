// How the takt subcommands refuse their arguments: one line naming the command and the problem, a pointer to --help, exit code 2.

/** Writes the refusal to stderr and returns the exit code for it. */
export function usageError(command: string, message: string): 2 {
  process.stderr.write(`takt ${command}: ${message}\n(takt ${command} --help shows the usage)\n`)
  return 2
}
