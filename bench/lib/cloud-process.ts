// cloud-sync for benchmarks: a fresh database on the machine's PostgreSQL server and cloud-sync in its own process on a free port.
import { spawn } from 'node:child_process'
import pg from 'pg'
import { onCleanup } from './cleanup.ts'
import { freePort, projectRoot } from './gateway-process.ts'

export const serverUrl = process.env.TAKT_BENCH_POSTGRES_URL ?? 'postgres://root@127.0.0.1:5432/test'
export const adminToken = 'bench-cloud-admin-token-0123456789'

export async function freshDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `takt_bench_${process.pid}_${Date.now()}`
  const admin = new pg.Client({ connectionString: serverUrl })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${name}`)
  await admin.end()
  const url = new URL(serverUrl)
  url.pathname = `/${name}`
  const drop = onCleanup(async () => {
    const c = new pg.Client({ connectionString: serverUrl })
    await c.connect()
    await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    await c.end()
  })
  return { url: url.toString(), drop }
}

/** cloud-sync in its own process on a free port, against `databaseUrl`. */
export async function startCloudProcess(databaseUrl: string, dataDir: string): Promise<{ url: string; pid: number; stop(): Promise<void> }> {
  const port = await freePort()
  const child = spawn(process.execPath, ['bin/takt.ts', 'cloud'], {
    cwd: projectRoot,
    env: { ...process.env, DATABASE_URL: databaseUrl, TAKT_DATA_DIR: dataDir, TAKT_HTTP_PORT: String(port), TAKT_LOG_LEVEL: 'warn', TAKT_ADMIN_TOKEN: adminToken },
    stdio: ['ignore', 'inherit', 'inherit'],
  })
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const stop = onCleanup(async () => {
    child.kill('SIGTERM')
    await exited
  })
  const url = `http://127.0.0.1:${port}`
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${url}/health`)).status === 200) break
    } catch {
      // not listening yet
    }
    if (i > 300) throw new Error('cloud-sync did not start')
    await new Promise((r) => setTimeout(r, 100))
  }
  return { url, pid: child.pid!, stop }
}
