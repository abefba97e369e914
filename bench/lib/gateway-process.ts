// A real gateway in its own process (`node bin/takt.ts edge`) on free 127.0.0.1 ports, as an installer would run it.
import { spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { freePort } from '../../test/helpers/client.ts'
import { onCleanup } from './cleanup.ts'

export const projectRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

export interface GatewayProcess {
  url: string
  pid: number
  /** The embedded broker's port. */
  mqttPort: number
  /** Stops the gateway with SIGTERM (SIGKILL after 10 s); resolves with its exit code. */
  stop(): Promise<number | null>
}

export interface GatewayProcessOptions {
  dataDir: string
  adminToken: string
  /** Extra node flags, e.g. `--cpu-prof`. */
  nodeArgs?: string[]
  readyTimeoutMs?: number
  /** More keys of the `mqtt:` section, indented, after its host (e.g. accounts). */
  mqtt?: string
  /** More of the gateway's YAML configuration, after the broker's section (e.g. an `http:` or `erp:` section). */
  config?: string
}

export { freePort }

async function healthy(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) })
    await res.arrayBuffer()
    return res.status === 200
  } catch {
    return false
  }
}

export async function startGatewayProcess(options: GatewayProcessOptions): Promise<GatewayProcess> {
  const port = await freePort()
  const mqttPort = await freePort()
  const url = `http://127.0.0.1:${port}`
  // The embedded broker listens on every interface by default and has no environment variable for its host.
  const configFile = join(options.dataDir, 'bench-gateway.yaml')
  // It may hold secrets (device password hashes, a sync token): readable by its owner only, as the gateway asks.
  writeFileSync(configFile, `mqtt:\n  host: 127.0.0.1\n${options.mqtt ?? ''}${options.config ?? ''}`, { mode: 0o600 })
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), 'bin/takt.ts', 'edge', '--config', configFile], {
    cwd: projectRoot,
    env: {
      ...process.env,
      TAKT_CONFIG: '',
      TAKT_DATA_DIR: options.dataDir,
      TAKT_HTTP_HOST: '127.0.0.1',
      TAKT_HTTP_PORT: String(port),
      TAKT_MQTT_PORT: String(mqttPort),
      TAKT_LOG_LEVEL: 'warn',
      TAKT_ADMIN_TOKEN: options.adminToken,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  // Keep the last lines of output to explain a gateway that dies; pass warnings through.
  const tail: string[] = []
  const keep = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line.trim() === '') continue
      tail.push(line)
      if (tail.length > 40) tail.shift()
      process.stderr.write(`  [gateway] ${line}\n`)
    }
  }
  child.stdout.on('data', keep)
  child.stderr.on('data', keep)
  let exitCode: number | null | undefined
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve((exitCode = code))))

  const stop = onCleanup(async () => {
    if (exitCode !== undefined) return
    child.kill('SIGTERM')
    const killer = setTimeout(() => child.kill('SIGKILL'), 10_000)
    await exited
    clearTimeout(killer)
  })

  const deadline = Date.now() + (options.readyTimeoutMs ?? 20_000)
  while (!(await healthy(url))) {
    if (exitCode !== undefined) throw new Error(`the gateway exited with code ${exitCode} before it was ready:\n${tail.join('\n')}`)
    if (Date.now() > deadline) {
      await stop()
      throw new Error(`the gateway did not answer /health within ${options.readyTimeoutMs ?? 20_000} ms:\n${tail.join('\n')}`)
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  return {
    url,
    pid: child.pid!,
    mqttPort,
    async stop() {
      await stop()
      return exited
    },
  }
}
