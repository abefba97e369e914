// Backups on a schedule inside the gateway: every backup.intervalHours, each verified, the oldest pruned to backup.keep; pre-migration copies are kept.
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { ConfigError, loadConfig } from '../../edge/config.ts'
import { startGateway } from '../../edge/main.ts'
import { verifyBackup } from '../../edge/store/backup.ts'
import { adminToken, removeDir } from '../helpers/gateway.ts'

t.setTimeout(60_000)

const dir = mkdtempSync(join(tmpdir(), 'takt-cli-schedule-'))
t.teardown(() => removeDir(dir))
const env = { TAKT_HTTP_PORT: '0', TAKT_MQTT_PORT: '0', TAKT_LOG_LEVEL: 'silent', TAKT_ADMIN_TOKEN: adminToken }

t.test('backup keys: defaults, the environment, and bad values named', async (t) => {
  const defaults = loadConfig({ env: { TAKT_DATA_DIR: join(dir, 'd') }, cwd: dir })
  t.same(defaults.backup, { intervalHours: 24, keep: 7, dir: join(dir, 'd', 'backups') })
  const fromEnv = loadConfig({ env: { TAKT_BACKUP_DIR: 'elsewhere', TAKT_BACKUP_INTERVAL_HOURS: '6', TAKT_BACKUP_KEEP: '3' }, cwd: dir })
  t.same(fromEnv.backup, { intervalHours: 6, keep: 3, dir: join(dir, 'elsewhere') }, 'a relative dir is taken from the working directory')
  const file = join(dir, 'bad.yaml')
  writeFileSync(file, 'backup:\n  keep: 0\n  intervalHours: -1\n  often: true\n')
  try {
    loadConfig({ file, env: {} })
    t.fail('a bad backup section was accepted')
  } catch (error) {
    t.type(error, ConfigError)
    const problems = (error as ConfigError).problems.join('\n')
    t.match(problems, /backup\.keep \(file .*bad\.yaml line 2\): Too small/)
    t.match(problems, /backup\.intervalHours \(file .*bad\.yaml line 3\): Too small/)
    t.match(problems, /backup\.often .*unknown key/)
  }
})

t.test('the schedule writes verified backups and prunes them to keep', async (t) => {
  const dataDir = join(dir, 'data')
  const backups = join(dataDir, 'backups')
  mkdirSync(backups, { recursive: true })
  // A copy made before a migration is not the schedule's to prune.
  writeFileSync(join(backups, 'pre-migration-2026-01-01T00-00-00-000Z.db'), '')
  const file = join(dir, 'takt.yaml')
  // 0.0004 hours: a backup about every 1.4 s.
  writeFileSync(file, `dataDir: ${dataDir}\nbackup:\n  intervalHours: 0.0004\n  keep: 2\n`)
  const running = await startGateway(loadConfig({ file, env }))
  let stopped = false
  t.teardown(() => (stopped ? undefined : running.stop()))
  const seen = new Set<string>()
  const ours = () => readdirSync(backups).filter((n) => /^takt-.+Z\.db$/.test(n)).sort()
  const deadline = Date.now() + 40_000
  while (seen.size < 4 && Date.now() < deadline) {
    for (const name of ours()) seen.add(name)
    await new Promise((r) => setTimeout(r, 100))
  }
  t.ok(seen.size >= 4, `the schedule made ${seen.size} backups`)
  await running.stop()
  stopped = true
  const kept = ours()
  t.equal(kept.length, 2, `two kept: ${kept.join(', ')}`)
  t.same(kept, [...new Set([...seen, ...kept])].sort().slice(-2), 'the newest two')
  for (const name of kept) {
    const v = verifyBackup(join(backups, name))
    t.ok(v.historianFile, `${name} verifies, with its historian`)
  }
  const historians = readdirSync(backups).filter((n) => n.endsWith('.historian.db'))
  t.equal(historians.length, 2, 'the historian copies of pruned backups are pruned with them')
  t.ok(readdirSync(backups).includes('pre-migration-2026-01-01T00-00-00-000Z.db'), 'the pre-migration copy is kept')
  t.same(readdirSync(backups).filter((n) => n.endsWith('.partial')), [], 'no partial file is left')
})
