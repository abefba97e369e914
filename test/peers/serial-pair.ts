// Serial lines for tests without hardware: a socat pseudo-terminal pair, and Debian's pymodbus RTU server on one end.
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join } from 'node:path'

const peers = import.meta.dirname

export interface SerialPair {
  /** The end a PLC (or the pymodbus peer) opens. */
  plc: string
  /** The end the gateway opens. */
  gateway: string
  /** Ends socat: both ends disappear, as when a USB adapter is unplugged. */
  stop(): Promise<void>
}

const exited = (child: ChildProcess) => new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())))

async function until(check: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** Two linked pseudo-terminals with stable names in `dir` (socat's `link=`), so a restarted pair has the same paths. */
export async function startSerialPair(dir: string): Promise<SerialPair> {
  const plc = join(dir, 'plc')
  const gateway = join(dir, 'gateway')
  const socat = spawn('socat', [`pty,raw,echo=0,link=${plc}`, `pty,raw,echo=0,link=${gateway}`], { stdio: 'ignore' })
  await new Promise<void>((resolve, reject) => {
    socat.once('error', reject)
    socat.once('spawn', resolve)
  })
  await until(() => existsSync(plc) && existsSync(gateway), 'socat to make its pseudo-terminals')
  return {
    plc,
    gateway,
    async stop() {
      // SIGTERM, so socat removes its links as it goes.
      socat.kill('SIGTERM')
      await exited(socat)
    },
  }
}

export interface Peer {
  stop(): Promise<void>
}

/** pymodbus_rtu_server.py on `path`; resolves once it has opened the line. */
export async function startPymodbusRtu(path: string, baudRate: number, parity: 'N' | 'E' | 'O'): Promise<Peer> {
  const child = spawn('/usr/bin/python3', [join(peers, 'pymodbus_rtu_server.py'), path, String(baudRate), parity], { stdio: ['ignore', 'pipe', 'inherit'] })
  await new Promise<void>((resolve, reject) => {
    child.once('error', reject)
    child.once('exit', (code) => reject(new Error(`pymodbus_rtu_server.py exited with ${code}`)))
    child.stdout!.once('data', () => resolve())
  })
  // "ready" is printed just before the server opens the port.
  await new Promise((resolve) => setTimeout(resolve, 300))
  return {
    async stop() {
      child.kill('SIGKILL')
      await exited(child)
    },
  }
}
