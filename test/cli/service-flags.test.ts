// takt edge runs with the services' V8 flags (an 8 MiB young generation) and glibc's fixed mmap threshold, in the same process it was started as; what the installer gives wins.
import { readFileSync } from 'node:fs'
import t from 'tap'
import { missingServiceEnvironment, missingServiceFlags, nodeOptionsList, serviceEnvironment, serviceFlags } from '../../bin/service-flags.ts'
import { startChildGateway } from '../helpers/client.ts'
import { adminToken, scratchDir } from '../helpers/gateway.ts'

t.setTimeout(60_000)

t.test('which service flags a start lacks, from its command line and NODE_OPTIONS', async (t) => {
  t.same(serviceFlags, ['--max-semi-space-size=8'])
  t.same(missingServiceFlags([], undefined), serviceFlags, 'nothing given: the flag is added')
  t.same(missingServiceFlags(['--cpu-prof'], '--import=x.mjs --max-old-space-size=512'), serviceFlags, 'other flags do not count')
  t.same(missingServiceFlags(['--max-semi-space-size=4'], undefined), [], 'on the command line')
  t.same(missingServiceFlags(['--max-semi-space-size', '4'], undefined), [], 'with its value as the next argument')
  t.same(missingServiceFlags(['--max_semi_space_size=4'], undefined), [], 'spelt with underscores')
  t.same(missingServiceFlags([], '--max-semi-space-size=4'), [], 'in NODE_OPTIONS')
  t.same(missingServiceFlags([], '"--import=file:///a b/x.mjs" "--max-semi-space-size=4"'), [], 'in NODE_OPTIONS, quoted')
  t.same(missingServiceFlags([], '--max-semi-space-sizes=4'), serviceFlags, 'a longer name is another flag')
  t.same(nodeOptionsList('"--import=file:///a b/x.mjs"  --trace-gc "--title=a \\"b\\""'), ['--import=file:///a b/x.mjs', '--trace-gc', '--title=a "b"'])
  t.same(nodeOptionsList(undefined), [])
})

t.test('which service environment a start lacks', async (t) => {
  t.same(serviceEnvironment, { MALLOC_MMAP_THRESHOLD_: '1048576' })
  t.same(missingServiceEnvironment({ PATH: '/usr/bin' }), serviceEnvironment, 'not set: added')
  t.same(missingServiceEnvironment({ MALLOC_MMAP_THRESHOLD_: '262144' }), {}, 'set as the variable: kept')
  t.same(missingServiceEnvironment({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=2:glibc.malloc.mmap_threshold=65536' }), {}, 'set as a glibc tunable: kept')
  t.same(missingServiceEnvironment({ GLIBC_TUNABLES: 'glibc.malloc.arena_max=2' }), serviceEnvironment, 'other tunables do not count')
})

/** The variables of a running process, as the kernel holds them. */
const environmentOf = (pid: number) => new Map(readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]))

/** The process's command line as the kernel holds it (after any re-exec). */
const commandLine = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean)

t.test('without a flag of its own, the gateway re-executes itself with --max-semi-space-size=8 and keeps its process id', async (t) => {
  const gw = await startChildGateway({ TAKT_DATA_DIR: scratchDir(t, 'takt-flags-default-'), TAKT_ADMIN_TOKEN: adminToken, TAKT_LOG_LEVEL: 'warn' })
  t.teardown(() => gw.kill('SIGKILL'))
  const args = commandLine(gw.child.pid!)
  t.ok(args.includes('--max-semi-space-size=8'), `the running gateway's command line has the flag: ${args.join(' ')}`)
  t.ok(args.some((a) => a.endsWith('takt.ts')) && args.includes('edge'), 'and is still takt edge, in the process that was started')
  t.equal(environmentOf(gw.child.pid!).get('MALLOC_MMAP_THRESHOLD_'), '1048576', 'with the fixed mmap threshold')
  t.equal((await fetch(`${gw.url}/health`)).status, 200)
})

t.test('a young-generation size given in NODE_OPTIONS is kept: no second flag', async (t) => {
  // tap's process hook writes every option of NODE_OPTIONS quoted, so this child sees the quoted form (the plain one is tested above, and below).
  const nodeOptions = `${process.env.NODE_OPTIONS ?? ''} "--max-semi-space-size=4"`.trim()
  const gw = await startChildGateway({ TAKT_DATA_DIR: scratchDir(t, 'takt-flags-given-'), TAKT_ADMIN_TOKEN: adminToken, TAKT_LOG_LEVEL: 'warn', NODE_OPTIONS: nodeOptions })
  t.teardown(() => gw.kill('SIGKILL'))
  const args = commandLine(gw.child.pid!)
  t.notOk(args.some((a) => a.startsWith('--max-semi-space-size')), `no flag added to the command line: ${args.join(' ')}`)
  t.equal((await fetch(`${gw.url}/health`)).status, 200)
})

t.test('an mmap threshold the installer sets is kept, and with every setting given nothing is added', async (t) => {
  const gw = await startChildGateway({ TAKT_DATA_DIR: scratchDir(t, 'takt-flags-env-'), TAKT_ADMIN_TOKEN: adminToken, TAKT_LOG_LEVEL: 'warn', MALLOC_MMAP_THRESHOLD_: '262144', NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --max-semi-space-size=8`.trim() })
  t.teardown(() => gw.kill('SIGKILL'))
  t.equal(environmentOf(gw.child.pid!).get('MALLOC_MMAP_THRESHOLD_'), '262144')
  t.notOk(commandLine(gw.child.pid!).some((a) => a.startsWith('--max-semi-space-size')), 'nothing added to the command line')
  t.equal((await fetch(`${gw.url}/health`)).status, 200)
})
