// Reads the machine's figures in a worker thread: systeminformation reads CPU load and temperature on
// Linux with synchronous child processes (execSync of `cat`), and the NTP daemon is asked through its
// command-line tool; here neither holds the gateway's event loop.
import { parentPort } from 'node:worker_threads'
import si from 'systeminformation'
import { readLocalNtp, type ClockEstimate } from './clock-offset.ts'

export interface SampleRequest {
  id: number
  /** Also read the temperature (when `sensor`) and the NTP daemon. */
  slow: boolean
  sensor: boolean
}

export interface SampleReply {
  id: number
  load: { currentLoad: number; cores: number; avgLoad: number } | null
  mem: { total: number; available: number } | null
  temperature: { main: number | null } | null
  ntp: { estimate: ClockEstimate | null; why: string } | null
  error: string | null
}

parentPort!.on('message', async (request: SampleRequest) => {
  const reply: SampleReply = { id: request.id, load: null, mem: null, temperature: null, ntp: null, error: null }
  try {
    const [load, mem] = await Promise.all([si.currentLoad(), si.mem()])
    reply.load = { currentLoad: load.currentLoad, cores: load.cpus.length, avgLoad: load.avgLoad }
    reply.mem = { total: mem.total, available: mem.available }
    if (request.slow && request.sensor) reply.temperature = { main: (await si.cpuTemperature()).main }
    if (request.slow) reply.ntp = await readLocalNtp()
  } catch (error) {
    reply.error = (error as Error).message
  }
  parentPort!.postMessage(reply)
})
