// Every takt subcommand answers --help with its usage and exit 0; a bad argument gets a one-line error naming it and a non-zero exit.
import t from 'tap'
import { runTakt } from '../helpers/client.ts'

// Each case starts a `takt` process; on a loaded machine they take longer than tap's default 30 s.
t.setTimeout(120_000)

async function takt(...args: string[]) {
  const run = runTakt(args, { TAKT_DATA_DIR: '/nonexistent/takt-help-test' })
  const { code } = await run.exited
  return { code, stdout: run.stdout(), stderr: run.stderr() }
}

const helps: Array<[string[], RegExp]> = [
  [['--help'], /Usage: takt <command>/],
  [['edge', '--help'], /edge \[--config FILE\]/],
  [['cloud', '--help'], /Usage: takt cloud/],
  [['demo', '--help'], /Usage: takt demo/],
  [['sim', '--help'], /Usage: takt sim SCENARIO\.yaml/],
  [['profiles', 'check', '--help'], /Usage: takt profiles check FILE/],
  [['audit', 'verify', '--help'], /takt audit verify \[--data-dir DIR\]/],
  [['import', '--help'], /takt import FILE\.\.\. \[--data-dir DIR\]/],
  [['export', '--help'], /Usage: takt export WHAT/],
  [['backup', '--help'], /Usage: takt backup \[--out FILE\]/],
  [['restore', '--help'], /Usage: takt restore FILE/],
]

t.test('--help: usage on stdout, exit 0, nothing on stderr', async (t) => {
  const results = await Promise.all(helps.map(([args]) => takt(...args)))
  helps.forEach(([args, usage], i) => {
    const r = results[i]!
    t.equal(r.code, 0, `takt ${args.join(' ')} exits 0 (${r.stderr})`)
    t.match(r.stdout, usage, `takt ${args.join(' ')} prints its usage`)
    t.equal(r.stderr, '', `takt ${args.join(' ')} writes nothing to stderr`)
  })
  t.match(results[0]!.stdout, /import FILE\.\.\.[\s\S]*export WHAT[\s\S]*backup \[--out FILE\][\s\S]*restore FILE/, 'the top-level help lists the new commands')
})

const bad: Array<[string[], number, RegExp]> = [
  [['import'], 2, /^takt import: name at least one FILE to import$/m],
  [['import', 'a.xml', '--url', 'http://127.0.0.1:1'], 2, /^takt import: --url needs --token/m],
  [['import', 'a.xml', '--bogus'], 2, /^takt import: Unknown option '--bogus'/m],
  [['import', '/nonexistent/a.xml'], 1, /^takt import: refused, nothing was imported: \/nonexistent\/a\.xml: cannot be read \(ENOENT\)$/m],
  [['export'], 2, /^takt export: say what to export: orders, as-built, genealogy or audit$/m],
  [['export', 'widgets'], 2, /^takt export: (unknown export 'widgets'|there is no gateway database)/m],
  [['backup', 'extra'], 2, /^takt backup: unexpected argument 'extra'/m],
  [['backup'], 1, /^takt backup: failed, nothing was kept: there is no gateway database at \/nonexistent\/takt-help-test\/takt\.db$/m],
  [['restore'], 2, /^takt restore: name the backup FILE to restore$/m],
  [['restore', 'a.db', 'b.db'], 2, /^takt restore: one backup at a time, not 2$/m],
  [['restore', '/nonexistent/a.db'], 1, /^takt restore: refused, nothing was changed: there is no backup at \/nonexistent\/a\.db$/m],
  [['profiles'], 2, /^usage: takt profiles check FILE/m],
  [['cloud', 'extra'], 2, /^takt cloud: unexpected argument 'extra'$/m],
  [['nonsense'], 2, /^takt: unknown command 'nonsense'$/m],
]

t.test('a bad argument: a one-line error naming it, a non-zero exit, nothing on stdout', async (t) => {
  const results = await Promise.all(bad.map(([args]) => takt(...args)))
  bad.forEach(([args, code, message], i) => {
    const r = results[i]!
    t.equal(r.code, code, `takt ${args.join(' ')} exits ${code}`)
    t.match(r.stderr, message, `takt ${args.join(' ')}: ${r.stderr.split('\n')[0]}`)
    t.equal(r.stdout, '', `takt ${args.join(' ')} prints nothing on stdout`)
  })
})
