// The machine server in a child process, for tests and benchmarks that kill, freeze or restart the server, or measure it apart.
import { spawn, type ChildProcess } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const script = join(dirname(fileURLToPath(import.meta.url)), 'machine-server.ts')

export interface MachineProcessOptions {
  port: number
  pkiDir: string
  users?: Array<{ username: string; password: string }>
  cycleTimeMs?: number
  extraVariables?: number
  extraIntervalMs?: number
  /** Default 60 s: loading node-opcua and the standard nodeset takes seconds, and much longer on a busy machine. */
  readyTimeoutMs?: number
}

export interface MachineProcess {
  endpoint: string
  pid: number
  certificateFile: string
  /** SIGKILL: the server dies without closing anything, as on a power cut. */
  kill(): Promise<void>
  /** SIGTERM: the server shuts down in order. */
  stop(): Promise<void>
}

export function startMachineProcess(options: MachineProcessOptions): Promise<MachineProcess> {
  const args = [script, '--port', String(options.port), '--pki', options.pkiDir]
  for (const u of options.users ?? []) args.push('--user', `${u.username}:${u.password}`)
  if (options.cycleTimeMs !== undefined) args.push('--cycle', String(options.cycleTimeMs))
  if (options.extraVariables !== undefined) args.push('--extra', String(options.extraVariables))
  if (options.extraIntervalMs !== undefined) args.push('--extra-interval', String(options.extraIntervalMs))
  const child: ChildProcess = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const end = async (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal)
    await exited
  }
  let stderr = ''
  child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-4000)))
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void end('SIGKILL')
      reject(new Error(`the machine server did not start within ${options.readyTimeoutMs ?? 60_000} ms:\n${stderr}`))
    }, options.readyTimeoutMs ?? 60_000)
    let stdout = ''
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8')
      const line = stdout.split('\n').find((l) => l.startsWith('{"ready"'))
      if (!line) return
      clearTimeout(timer)
      const ready = JSON.parse(line) as { endpoint: string; certificateFile: string }
      resolve({ endpoint: ready.endpoint, pid: child.pid!, certificateFile: ready.certificateFile, kill: () => end('SIGKILL'), stop: () => end('SIGTERM') })
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`the machine server exited with code ${code} before it was ready:\n${stderr}`))
    })
  })
}
