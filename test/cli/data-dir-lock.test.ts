// Who owns a data directory: a running gateway or tool is seen, a stale pid file is not; a gateway does not start under an import or restore.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { holdDataDir, lockFileName, ownedMessage, runningGateway } from '../../edge/store/data-dir-lock.ts'
import { removeDir, startTestGateway } from '../helpers/gateway.ts'
import { runTakt } from '../helpers/client.ts'

t.setTimeout(60_000)

const scratch = () => {
  const dir = mkdtempSync(join(tmpdir(), 'takt-cli-lock-'))
  t.teardown(() => removeDir(dir))
  return dir
}

/** The pid of a process that has already ended. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' })
  return Number(child.stdout)
}

t.test('held, seen, released; a stale file of a process that is gone counts as free', async (t) => {
  const dir = scratch()
  t.equal(runningGateway(dir), null, 'no file: free')
  const release = holdDataDir(dir, new Date('2026-12-01T00:00:00Z'))
  t.match(runningGateway(dir), { role: 'gateway', pid: process.pid, host: hostname(), startedAt: '2026-12-01T00:00:00.000Z' })
  release()
  t.notOk(existsSync(join(dir, lockFileName)), 'released')
  writeFileSync(join(dir, lockFileName), JSON.stringify({ role: 'gateway', pid: deadPid(), host: hostname(), startedAt: '2026-01-01T00:00:00.000Z' }))
  t.equal(runningGateway(dir), null, 'a stale pid file (kill -9, a power cut) does not block')
  writeFileSync(join(dir, lockFileName), 'not json')
  t.equal(runningGateway(dir), null, 'an unreadable file does not block')
  writeFileSync(join(dir, lockFileName), JSON.stringify({ pid: 1, host: 'another-host', startedAt: '2026-01-01T00:00:00.000Z' }))
  t.match(runningGateway(dir), { host: 'another-host' }, 'a pid from another host cannot be checked: it counts as running')
  t.match(ownedMessage(dir, runningGateway(dir)!), /^the gateway \(pid 1 on another-host, started 2026-01-01T00:00:00\.000Z\) is running on .+; stop it first \(if it is not running, delete .+gateway\.pid\)$/)
  const first = holdDataDir(dir, new Date('2026-12-01T00:00:00Z'))
  const second = holdDataDir(dir, new Date('2026-12-01T00:00:01Z'))
  first()
  t.match(runningGateway(dir), { startedAt: '2026-12-01T00:00:01.000Z' }, 'an earlier holder does not release a later one')
  second()
})

t.test('a gateway does not start while an import or restore holds the directory; an import is refused meanwhile', async (t) => {
  const dir = scratch()
  const release = holdDataDir(dir, new Date(), 'takt restore')
  try {
    await startTestGateway(dir).then(
      async (gw) => {
        await gw.stop()
        t.fail('the gateway started under a restore')
      },
      (error: Error) => t.match(error.message, /^takt restore \(pid \d+ on .+\) is running on .+; wait until it has finished/),
    )
    t.match(JSON.parse(readFileSync(join(dir, lockFileName), 'utf8')), { role: 'takt restore' }, 'the refused start leaves the holder as it was')
    writeFileSync(join(dir, 'none.json'), '{}')
    const run = runTakt(['import', join(dir, 'none.json'), '--data-dir', dir], {})
    const { code } = await run.exited
    t.equal(code, 1)
    t.match(run.stderr(), /^takt import: refused: takt restore \(pid \d+/)
  } finally {
    release()
  }
  const gw = await startTestGateway(dir)
  t.equal((await gw.call('GET', '/health')).status, 200, 'once released, the gateway starts')
  await gw.stop()
})
