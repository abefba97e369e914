// The broker's password checker: the right password passes, a wrong one or a malformed hash does not, and checks queued together each get their own answer.
import t from 'tap'
import { hashPassword } from '../api/passwords.ts'
import { DeviceCredentials } from './device-credentials.ts'

t.test('a password is checked against its scrypt hash', async (t) => {
  const credentials = new DeviceCredentials()
  t.teardown(() => credentials.close())
  const stored = await hashPassword('press1 secret')
  t.equal(await credentials.verify('press1 secret', stored), true, 'the right password passes')
  t.equal(await credentials.verify('press1 secreT', stored), false, 'one letter off is refused')
  t.equal(await credentials.verify('', stored), false, 'an empty password is refused')
})

t.test('a hash that is not a scrypt hash refuses every password', async (t) => {
  const credentials = new DeviceCredentials()
  t.teardown(() => credentials.close())
  t.equal(await credentials.verify('x', 'plain-text-password'), false, 'no scheme')
  t.equal(await credentials.verify('x', 'bcrypt$10$abc$def$ghi$jkl'), false, 'another scheme')
  t.equal(await credentials.verify('x', 'scrypt$16384$8$1$$'), false, 'no salt or hash')
  // Parameters scrypt cannot use (N not a power of two) are a refusal, not a crash, and the checker keeps working.
  await t.rejects(credentials.verify('x', 'scrypt$1000$8$1$c2FsdA$aGFzaA'), /password check failed/)
  t.equal(await credentials.verify('x', await hashPassword('x')), true, 'the checker still answers afterwards')
})

t.test('checks sent at once are answered one by one, each with its own result', async (t) => {
  const credentials = new DeviceCredentials()
  t.teardown(() => credentials.close())
  const devices = ['tdev1', 'tdev2', 'tdev3', 'tdev4']
  const stored = await Promise.all(devices.map((d) => hashPassword(`${d} secret`)))
  // Every device with its own password, and every device with its neighbour's: only the first four pass.
  const answers = await Promise.all([...devices.map((d, i) => credentials.verify(`${d} secret`, stored[i]!)), ...devices.map((d, i) => credentials.verify(`${d} secret`, stored[(i + 1) % devices.length]!))])
  t.same(answers, [true, true, true, true, false, false, false, false])
})

t.test('close ends the checker and refuses what was waiting; a later check starts a new one', async (t) => {
  const credentials = new DeviceCredentials()
  const stored = await hashPassword('a')
  t.equal(await credentials.verify('a', stored), true)
  const refused = t.rejects(credentials.verify('a', stored), /closed/, 'a check still waiting at close is refused')
  await credentials.close()
  await refused
  // After close a new check starts a new thread rather than failing.
  t.equal(await credentials.verify('a', stored), true, 'a check after close still answers')
  await credentials.close()
})
