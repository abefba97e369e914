// `takt demo`: the settings and the ports checked first (a quick, one-line refusal), then the demo line started and kept until a signal.
import { demoHelp } from './help.ts'
import { claimPorts, DemoSetupError } from './ports.ts'
import { settingsFrom } from './settings.ts'

export async function runDemoLine(args: string[]): Promise<void> {
  if (args[0] === '--help' || args[0] === '-h') {
    process.stdout.write(demoHelp)
    return
  }
  const fail = (message: string, code: number): never => {
    process.stderr.write(`takt demo: ${message}\n`)
    process.exit(code)
  }
  if (args.length > 0) fail(`unexpected argument '${args[0]}' (see takt demo --help)`, 2)
  let started: Awaited<ReturnType<typeof import('./run.ts').startDemoLine>> | null = null
  let stopping: string | null = null
  const shutdown = (signal: string) => {
    if (stopping) return
    stopping = signal
    // A signal while starting is answered once everything has started (each part stops cleanly only then).
    if (started) stopDemo(started.running, signal)
  }
  process.on('SIGINT', () => shutdown('SIGINT'))
  process.on('SIGTERM', () => shutdown('SIGTERM'))
  try {
    const settings = settingsFrom(process.env)
    // Before the cloud, the gateway and the machines load: a taken port is known in a moment.
    await claimPorts(settings.host, settings.ports)
    const { startDemoLine } = await import('./run.ts')
    started = await startDemoLine(settings, (line) => process.stdout.write(`${line}\n`))
  } catch (error) {
    if (error instanceof DemoSetupError) return fail(error.message, 2)
    return fail(error instanceof Error ? error.message : String(error), 1)
  }
  process.stdout.write(started.banner)
  if (stopping) stopDemo(started.running, stopping)

  function stopDemo(running: { stop(): Promise<void>; stopping(): string | null }, signal: string): void {
    process.stdout.write(`\nStopping the demo line (${signal})…\n`)
    // A part that never finishes stopping must not keep the demo from exiting.
    const stuck = setTimeout(() => fail(`the demo line did not stop within 30 s (still stopping ${running.stopping() ?? 'an unknown part'})`, 1), 30_000)
    stuck.unref()
    running.stop().then(
      () => {
        process.stdout.write('Demo line stopped.\n')
        process.exit(0)
      },
      (error: unknown) => fail(`stopping failed: ${error instanceof Error ? error.message : String(error)}`, 1),
    )
  }
}
