// The Modbus TCP simulator against independent clients (Debian's mbpoll and pymodbus), its fault hooks, malformed frames on a real socket, the CLI.
import { execFile, fork } from 'node:child_process'
import { connect } from 'node:net'
import { join } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { ModbusClient } from '../../edge/connectivity/modbus/serial-line.ts'
import { frameRequest } from './mbap.ts'
import { RegisterMap } from './register-map.ts'
import { startModbusSlave, type ModbusFrameError, type ModbusSlave } from './slave.ts'

const run = promisify(execFile)
const peers = join(import.meta.dirname, '../../test/peers')

async function slaveFor(t: { teardown(fn: () => Promise<void>): void }, errors: ModbusFrameError[] = []): Promise<ModbusSlave> {
  const one = new RegisterMap(10_000)
  for (let i = 0; i < 10; i++) one.holdingRegisters[i] = i * 11
  one.setFloat32('holding_register', 50, 12.5)
  one.inputRegisters[6] = 66
  one.coils[3] = 1
  one.discreteInputs[9] = 1
  const two = new RegisterMap(100)
  two.holdingRegisters[1] = 7
  const slave = await startModbusSlave({ units: { 1: one, 2: two }, onProtocolError: (e) => errors.push(e) })
  t.teardown(() => slave.close())
  return slave
}

/** mbpoll -1 (poll once) with PDU addressing (-0); resolves with its stdout, or its stderr when it fails. */
async function mbpoll(port: number, args: string[]): Promise<{ ok: boolean; values: string[]; text: string }> {
  try {
    const { stdout } = await run('mbpoll', ['-m', 'tcp', '-p', String(port), '-1', '-0', '-o', '0.5', ...args.slice(0, -1), '127.0.0.1', ...args.slice(-1)[0]!.split(' ').filter(Boolean)])
    return { ok: true, values: [...stdout.matchAll(/^\[\d+\]:\s+(\S+)/gm)].map((m) => m[1]!), text: stdout }
  } catch (error) {
    return { ok: false, values: [], text: String((error as { stderr?: string }).stderr ?? error) }
  }
}

t.test('mbpoll reads and writes every table through all eight function codes', async (t) => {
  const slave = await slaveFor(t)
  const map = slave.unit(1)!
  t.same((await mbpoll(slave.port, ['-a', '1', '-r', '0', '-c', '4', ''])).values, ['0', '11', '22', '33'], 'FC 0x03 holding registers')
  t.same((await mbpoll(slave.port, ['-a', '1', '-r', '50', '-t', '4:float', '-B', ''])).values, ['12.5'], 'a float32 across two registers, big-endian words')
  t.same((await mbpoll(slave.port, ['-a', '1', '-t', '3', '-r', '5', '-c', '2', ''])).values, ['0', '66'], 'FC 0x04 input registers')
  t.same((await mbpoll(slave.port, ['-a', '1', '-t', '0', '-r', '2', '-c', '3', ''])).values, ['0', '1', '0'], 'FC 0x01 coils')
  t.same((await mbpoll(slave.port, ['-a', '1', '-t', '1', '-r', '8', '-c', '2', ''])).values, ['0', '1'], 'FC 0x02 discrete inputs')
  t.same((await mbpoll(slave.port, ['-a', '2', '-r', '1', ''])).values, ['7'], 'unit 2 has its own map')
  t.match((await mbpoll(slave.port, ['-a', '1', '-r', '100', '4242'])).text, /Written 1 references/, 'FC 0x06')
  t.match((await mbpoll(slave.port, ['-a', '1', '-r', '200', '5 6 7'])).text, /Written 3 references/, 'FC 0x10')
  t.match((await mbpoll(slave.port, ['-a', '1', '-t', '0', '-r', '30', '1'])).text, /Written 1 references/, 'FC 0x05')
  t.match((await mbpoll(slave.port, ['-a', '1', '-t', '0', '-r', '40', '1 0 1'])).text, /Written 3 references/, 'FC 0x0F')
  t.same([map.holdingRegisters[100], ...map.get('holding_register', 200, 3), ...map.get('coil', 40, 3), map.coils[30]], [4242, 5, 6, 7, true, false, true, 1], 'the writes are in the map')
})

t.test('mbpoll sees the refusals: a bad address, a unit with no device', async (t) => {
  const slave = await slaveFor(t)
  const past = await mbpoll(slave.port, ['-a', '1', '-r', '9998', '-c', '5', ''])
  t.equal(past.ok, false)
  t.match(past.text, /Illegal data address/, 'exception 2 past the end of the map')
  t.match((await mbpoll(slave.port, ['-a', '9', '-r', '0', ''])).text, /Target device failed to respond/, 'exception 0x0B for unit 9')
  t.same((await mbpoll(slave.port, ['-a', '1', '-r', '9995', '-c', '5', ''])).values.length, 5, 'the last five registers are fine')
})

t.test('pymodbus as a client: reads, writes, and exceptions 2, 3 and 0x0B', async (t) => {
  const slave = await slaveFor(t)
  const { stdout } = await run('/usr/bin/python3', [join(peers, 'pymodbus_client.py'), '127.0.0.1', String(slave.port)])
  const out = JSON.parse(stdout) as Record<string, unknown>
  t.same(out.holding, [0, 11, 22, 33, 44, 55, 66, 77, 88, 99])
  t.same(out.input, [0, 66, 0])
  t.same((out.coils as boolean[]).slice(0, 10), [false, false, false, true, false, false, false, false, false, false])
  t.same((out.discrete as boolean[]).slice(0, 10), [false, false, false, false, false, false, false, false, false, true])
  t.same(out.unit2, [0, 7])
  t.same([out.write_register, out.write_registers, out.write_coil, out.write_coils], ['ok', 'ok', 'ok', 'ok'])
  t.same(out.after_writes, [1, 2, 3])
  t.match(out, { bad_address: { exception: 2 }, bad_quantity: { exception: 3 }, unknown_unit: { exception: 11 } })
  t.same([slave.unit(1)!.holdingRegisters[100], slave.unit(1)!.coils[7], ...slave.unit(1)!.get('coil', 20, 3)], [4242, 1, true, false, true])
})

t.test('the map changes while it serves; each read sees the latest values', async (t) => {
  const slave = await slaveFor(t)
  const client = new ModbusClient()
  await client.connectTCP('127.0.0.1', { port: slave.port })
  t.teardown(() => new Promise<void>((resolve) => client.destroy(() => resolve())))
  client.setID(1)
  client.setTimeout(500)
  for (const v of [1, 2, 3]) {
    slave.unit(1)!.set('holding_register', 0, v)
    t.same((await client.readHoldingRegisters(0, 1)).data, [v])
  }
  slave.addUnit(3).set('holding_register', 0, 33)
  client.setID(3)
  t.same((await client.readHoldingRegisters(0, 1)).data, [33], 'a unit added while serving')
})

t.test('fault hooks: silence, delay, exception, drop, a malformed answer; rules by unit and function, for a number of requests', async (t) => {
  const slave = await slaveFor(t)
  const client = new ModbusClient()
  const open = async () => {
    await client.connectTCP('127.0.0.1', { port: slave.port })
    client.setID(1)
    client.setTimeout(300)
  }
  await open()
  t.teardown(() => new Promise<void>((resolve) => client.destroy(() => resolve())))
  const read = () => client.readHoldingRegisters(1, 1).then((r) => r.data, (e: Error & { modbusCode?: number }) => e.modbusCode ?? (e.name === 'Error' ? e.message : e.name))

  const clear = slave.injectFault({ fault: { kind: 'silence' }, unitId: 1, functionCode: 0x03 })
  t.equal(await read(), 'TransactionTimedOutError', 'silence: the client times out')
  clear()
  t.same(await read(), [11], 'cleared: answered again')

  slave.injectFault({ fault: { kind: 'delay', ms: 150 }, times: 1 })
  const started = Date.now()
  t.same(await read(), [11])
  t.ok(Date.now() - started >= 140, 'delay: answered after 150 ms')
  t.ok(Date.now() - started < 300)

  slave.injectFault({ fault: { kind: 'exception', code: 4 }, times: 2 })
  t.same([await read(), await read(), await read()], [4, 4, [11]], 'exception 4 for two requests, then normal')

  slave.injectFault({ fault: { kind: 'exception', code: 6 }, unitId: 2 })
  t.same(await read(), [11], 'a rule for unit 2 leaves unit 1 alone')
  slave.clearFaults()

  slave.injectFault({ fault: { kind: 'malformed' }, times: 1 })
  t.match(await read(), /^Data length error/, 'malformed: the client refuses the short answer')
  t.equal(slave.stats().faulted, 5)

  const before = slave.stats().accepted
  slave.injectFault({ fault: { kind: 'drop' }, times: 1 })
  await read()
  await new Promise((resolve) => setTimeout(resolve, 50))
  t.equal(client.isOpen, false, 'drop: the connection is gone')
  t.equal(slave.stats().connections, 0)
  await open()
  t.same(await read(), [11], 'a new connection is served')
  t.equal(slave.stats().accepted, before + 1)
})

t.test('garbage on a real socket: reported, that connection closed, other clients unharmed, the slave alive', async (t) => {
  const errors: ModbusFrameError[] = []
  const slave = await slaveFor(t, errors)
  const client = new ModbusClient()
  await client.connectTCP('127.0.0.1', { port: slave.port })
  t.teardown(() => new Promise<void>((resolve) => client.destroy(() => resolve())))
  client.setID(1)
  client.setTimeout(500)
  const garbage = connect(slave.port, '127.0.0.1')
  await new Promise((resolve) => garbage.once('connect', resolve))
  const closed = new Promise((resolve) => garbage.once('close', resolve))
  garbage.write('GET / HTTP/1.1\r\nHost: plc\r\n\r\n')
  await closed
  t.match(errors[0]?.message, /^malformed Modbus TCP frame from 127\.0\.0\.1:\d+: MBAP length 12064 is over 254.*connection closed$/, 'an HTTP request is not Modbus ("/ " read as its length field)')
  t.same((await client.readHoldingRegisters(2, 1)).data, [22], 'the other connection is still served')
  const raw = connect(slave.port, '127.0.0.1')
  t.teardown(() => void raw.destroy())
  const answer = new Promise<Buffer>((resolve) => raw.once('data', resolve))
  raw.write(frameRequest(77, 1, [0x2b, 0x0e, 0x01, 0x00]))
  t.equal((await answer).toString('hex'), '004d00000003' + '01ab01', 'an unknown function on a fresh socket: exception 1 with its transaction id')
})

t.test('the command line: listens, serves the units it was given, answers stats over IPC, stops on SIGTERM', async (t) => {
  const child = fork(join(import.meta.dirname, 'slave.ts'), ['--port', '0', '--units', '1-3,7', '--size', '50', '--log-arrivals'], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] })
  const ask = <T>(type: string, reply: string) => new Promise<T>((resolve) => {
    const on = (m: { type: string }) => m.type === reply && (child.off('message', on), resolve(m as T))
    child.on('message', on)
    child.send({ type })
  })
  const { port } = await new Promise<{ port: number }>((resolve) => child.on('message', (m: { type: string; port: number }) => m.type === 'listening' && resolve(m)))
  const line = await new Promise<string>((resolve) => child.stdout!.once('data', (d: Buffer) => resolve(d.toString())))
  t.match(line, /^listening 127\.0\.0\.1:\d+ units 1…7 \(4\)/)
  t.same((await mbpoll(port, ['-a', '7', '-r', '40', '-c', '2', ''])).values, ['40', '41'], 'registers start out holding their address')
  t.match((await mbpoll(port, ['-a', '4', '-r', '0', ''])).text, /Target device failed to respond/, 'unit 4 was not asked for')
  t.match((await mbpoll(port, ['-a', '1', '-r', '49', '-c', '2', ''])).text, /Illegal data address/, '--size 50')
  t.match(await ask<{ stats: unknown }>('stats', 'stats'), { stats: { requests: 3, exceptions: 2 } })
  const { arrivals } = await ask<{ arrivals: Record<string, number[]> }>('take-arrivals', 'arrivals')
  t.same(Object.keys(arrivals).sort(), ['1', '4', '7'])
  t.ok(Math.abs(arrivals['7']![0]! - Date.now()) < 10_000, 'arrival times are Unix milliseconds')
  const exit = new Promise<number | null>((resolve) => child.once('exit', resolve))
  child.kill('SIGTERM')
  t.equal(await exit, 0)
  const bad = await run(process.execPath, [join(import.meta.dirname, 'slave.ts'), '--units', '300']).catch((e: { code: number; stderr: string }) => e)
  t.match(bad, { code: 1, stderr: /--units: 300 is not a range within 0-255/ })
})
