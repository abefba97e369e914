// Who owns a data directory: a running gateway writes its pid there, so that offline tools (restore, import) refuse to write under it.
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'

export const lockFileName = 'gateway.pid'

/** Who writes under the directory: the gateway, or an offline tool replacing its database. */
export type OwnerRole = 'gateway' | 'takt import' | 'takt restore'

export interface DataDirOwner {
  role?: OwnerRole
  pid: number
  host: string
  startedAt: string
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** The gateway holding `dataDir`, or null when none does (no pid file, or its process is gone: a crash or kill -9 leaves a stale one). */
export function runningGateway(dataDir: string): DataDirOwner | null {
  let owner: DataDirOwner
  try {
    owner = JSON.parse(readFileSync(join(dataDir, lockFileName), 'utf8')) as DataDirOwner
  } catch {
    return null
  }
  if (!Number.isInteger(owner.pid) || owner.pid <= 0) return null
  // A pid from another host (a data directory on shared storage) cannot be checked here: it counts as running.
  if (owner.host !== hostname()) return owner
  return alive(owner.pid) ? owner : null
}

/** Marks `dataDir` as this process's; the returned function releases it (only if it is still ours). */
export function holdDataDir(dataDir: string, now: Date, role: OwnerRole = 'gateway'): () => void {
  const file = join(dataDir, lockFileName)
  const owner: DataDirOwner = { role, pid: process.pid, host: hostname(), startedAt: now.toISOString() }
  writeFileSync(file, `${JSON.stringify(owner)}\n`, { mode: 0o644 })
  return () => {
    try {
      const current = JSON.parse(readFileSync(file, 'utf8')) as DataDirOwner
      if (current.pid === owner.pid && current.startedAt === owner.startedAt) rmSync(file, { force: true })
    } catch {
      // already gone
    }
  }
}

/** A one-line refusal naming the owner, for tools that must not write under a running gateway. */
export function ownedMessage(dataDir: string, owner: DataDirOwner): string {
  const role = owner.role ?? 'gateway'
  const who = role === 'gateway' ? 'the gateway' : role
  return `${who} (pid ${owner.pid} on ${owner.host}, started ${owner.startedAt}) is running on ${dataDir}; ${role === 'gateway' ? 'stop it first' : 'wait until it has finished'} (if it is not running, delete ${join(dataDir, lockFileName)})`
}
