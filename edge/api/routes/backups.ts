// Backups on demand: an administrator asks the gateway for a verified online backup of its databases now.
import type { VerifiedBackup } from '../../store/backup.ts'
import { guard } from '../auth.ts'
import type { Api } from '../context.ts'
import { ProblemError } from '../problem.ts'
import { declare } from '../route.ts'

export interface BackupRouteDeps {
  /** One backup now (or the one under way), written, verified and pruned to backup.keep. */
  backupNow(): Promise<VerifiedBackup>
}

export function backupRoutes(app: Api, deps: BackupRouteDeps): void {
  app.openapi(declare({ method: 'post', path: '/api/v1/admin/backups', tag: 'Administration', summary: 'Write a verified online backup of the MES database and the historian now (admin only)', status: 201 }), async (c) => {
    guard(c, ['admin'])
    let done: VerifiedBackup
    try {
      done = await deps.backupNow()
    } catch (error) {
      throw new ProblemError(409, 'backup_failed', `The backup was not written: ${(error as Error).message}`)
    }
    return c.json({ file: done.file, historianFile: done.historianFile, events: done.events, head: done.head, signatures: done.signatures, bytes: done.bytes }, 201)
  })
}
