// `node simulators/modbus/slave.ts`: the fast Modbus TCP slave from the command line, and its IPC face when a bench forks it.
import { parseArgs } from 'node:util'
import { RegisterMap } from './register-map.ts'
import { ModbusSlave, type SlaveRequest } from './slave.ts'

const usage = `node simulators/modbus/slave.ts [options]

  --host HOST      address to listen on (default 127.0.0.1)
  --port N         TCP port (default 5020; 0 for any free port)
  --units LIST     unit ids served, e.g. 1 or 1-50 or 1,3,7-9 (default 1)
  --size N         entries in each of the four tables per unit (default 10000)
  --log-arrivals   when forked: remember each request's arrival time for 'take-arrivals'
  --help           this text

Every holding and input register starts holding its own address, every coil and discrete input
at an odd address is on, so a read shows at once whether addressing is right. Prints
"listening HOST:PORT units …" when ready; stops on SIGINT or SIGTERM.

Forked with an IPC channel (child_process.fork), it also answers messages:
  { type: 'stats' }          → { type: 'stats', stats }
  { type: 'take-arrivals' }  → { type: 'arrivals', arrivals: { [unitId]: [Unix ms, …] } }, then forgets them
                               (with --log-arrivals; empty without)
`

/** `1-3,7` → [1, 2, 3, 7]. */
export function parseUnits(text: string): number[] {
  const ids = new Set<number>()
  for (const part of text.split(',')) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part)
    if (!m) throw new Error(`--units: '${part}' is not a unit id or a range such as 1-50`)
    const from = Number(m[1])
    const to = Number(m[2] ?? m[1])
    if (from > to || to > 255) throw new Error(`--units: ${part} is not a range within 0-255`)
    for (let id = from; id <= to; id++) ids.add(id)
  }
  return [...ids]
}

function demoMap(size: number): RegisterMap {
  const map = new RegisterMap(size)
  for (let a = 0; a < size; a++) {
    map.holdingRegisters[a] = a & 0xffff
    map.inputRegisters[a] = a & 0xffff
    map.coils[a] = a & 1
    map.discreteInputs[a] = a & 1
  }
  return map
}

/** Remembers request arrival times per unit for a forked bench to take; bounded, so an unread log cannot grow without end. */
function arrivalLog(limit = 2_000_000) {
  let arrivals = new Map<number, number[]>()
  let kept = 0
  return {
    record(r: SlaveRequest) {
      if (kept >= limit) return
      let list = arrivals.get(r.unitId)
      if (!list) arrivals.set(r.unitId, (list = []))
      list.push(r.at)
      kept += 1
    },
    take(): Record<number, number[]> {
      const out = Object.fromEntries(arrivals)
      arrivals = new Map()
      kept = 0
      return out
    },
  }
}

export async function runCli(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { host: { type: 'string' }, port: { type: 'string' }, units: { type: 'string' }, size: { type: 'string' }, 'log-arrivals': { type: 'boolean' }, help: { type: 'boolean' } } })
  if (values.help) {
    process.stdout.write(usage)
    return
  }
  const port = Number(values.port ?? 5020)
  const size = Number(values.size ?? 10_000)
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port: ${values.port} is not a TCP port`)
  if (!Number.isInteger(size) || size < 1 || size > 65536) throw new Error(`--size: ${values.size} is not 1 to 65536`)
  const units = parseUnits(values.units ?? '1')
  const forked = typeof process.send === 'function'
  const log = forked && values['log-arrivals'] ? arrivalLog() : null
  const slave = new ModbusSlave({
    host: values.host ?? '127.0.0.1',
    port,
    units: new Map(units.map((id) => [id, demoMap(size)])),
    ...(log ? { onRequest: log.record } : {}),
    onProtocolError: (error) => process.stderr.write(`${error.message}\n`),
  })
  const address = await slave.listen()
  const range = units.length > 1 ? `${units[0]}…${units.at(-1)} (${units.length})` : String(units[0])
  process.stdout.write(`listening ${address.address}:${address.port} units ${range}\n`)
  const stop = () => void slave.close().then(() => process.exit(0))
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  if (forked) {
    process.send!({ type: 'listening', host: address.address, port: address.port })
    process.on('message', (message: { type?: string }) => {
      if (message.type === 'stats') process.send!({ type: 'stats', stats: slave.stats() })
      else if (message.type === 'take-arrivals') process.send!({ type: 'arrivals', arrivals: log?.take() ?? {} })
    })
    // The bench that forked us is gone: nobody is left to stop us.
    process.once('disconnect', stop)
  }
}
