// The open-loop load generator in a process of its own: its timing is then not disturbed by the benchmark's own heap and work.
//
// Run as `node bench/lib/open-loop-process.ts` with one JSON line on stdin (an OpenLoopJob); it
// writes the WireResult and its own CPU time as one JSON line on stdout.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { cpuSince, readCpuTime, type CpuTime } from './proc-stats.ts'
import { runOpenLoop, type WireResult, type WireTarget } from './wire-load.ts'

export interface OpenLoopJob {
  target: WireTarget
  paths: string[]
  rate: number
  seconds: number
  maxInFlight: number
}

/** Runs the open loop in a child process and resolves with its result. */
export function runOpenLoopProcess(job: OpenLoopJob): Promise<WireResult & { client: CpuTime }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--max-semi-space-size=2', fileURLToPath(import.meta.url)], { stdio: ['pipe', 'pipe', 'inherit'] })
    let out = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk))
    child.once('error', reject)
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`the open-loop load process exited with code ${code}`))
      try {
        resolve(JSON.parse(out))
      } catch (error) {
        reject(new Error(`the open-loop load process wrote no result: ${(error as Error).message}`))
      }
    })
    child.stdin.end(`${JSON.stringify(job)}\n`)
  })
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  let input = ''
  process.stdin.setEncoding('utf8').on('data', (chunk: string) => (input += chunk))
  process.stdin.once('end', async () => {
    const job = JSON.parse(input) as OpenLoopJob
    const before = readCpuTime(process.pid)
    const result = await runOpenLoop(job.target, job.paths, job.rate, job.seconds, job.maxInFlight)
    process.stdout.write(`${JSON.stringify({ ...result, client: cpuSince(process.pid, before) })}\n`)
  })
}
