// Debian's Mosquitto as the telemetry bench's relay peer: its own process on a free port, password file and ACLs like the gateway's accounts.
import { execFileSync, spawnSync } from 'node:child_process'
import { userInfo } from 'node:os'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { connect } from 'node:net'
import { freePort } from './gateway-process.ts'
import { spawnChild, type Child } from './telemetry-children.ts'

export interface MosquittoOptions {
  dir: string
  /** Device accounts (publish to devices/<name>/#) and reader accounts (read devices/#), all with `password`. */
  devices: string[]
  readers: string[]
  password: string
}

export interface Mosquitto {
  port: number
  pid: number
  version: string
  stop(): Promise<void>
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    socket.once('connect', () => (socket.destroy(), resolve(true)))
    socket.once('error', () => resolve(false))
  })
}

export async function startMosquitto(o: MosquittoOptions): Promise<Mosquitto> {
  const port = await freePort()
  const passwords = join(o.dir, 'mosquitto.passwd')
  writeFileSync(passwords, [...o.devices, ...o.readers].map((u) => `${u}:${o.password}\n`).join(''))
  // Hashes the plain-text file in place (PBKDF2-SHA512), as an installer would.
  execFileSync('mosquitto_passwd', ['-U', passwords])
  const acl = join(o.dir, 'mosquitto.acl')
  writeFileSync(acl, [...o.readers.flatMap((u) => [`user ${u}`, 'topic read devices/#']), '', 'pattern write devices/%u/#', ''].join('\n'))
  const conf = join(o.dir, 'mosquitto.conf')
  writeFileSync(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      // Run as whoever runs the bench, so the temp files stay readable (as root Mosquitto would switch to its own user).
      `user ${userInfo().username}`,
      'allow_anonymous false',
      `password_file ${passwords}`,
      `acl_file ${acl}`,
      'persistence false',
      // Defaults (20 in flight, 1,000 queued per client) would throttle or drop a fast QoS 1 stream to the reader.
      'max_inflight_messages 1000',
      'max_queued_messages 10000000',
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      '',
    ].join('\n'),
  )
  // `mosquitto -h` prints its version and exits with status 3.
  const version = spawnSync('mosquitto', ['-h'], { encoding: 'utf8' }).stdout.split('\n')[0]!.replace(/^mosquitto version /, '')
  const child: Child = spawnChild('mosquitto', 'mosquitto', ['-c', conf])
  const deadline = Date.now() + 5_000
  while (!(await listening(port))) {
    if (Date.now() > deadline) {
      await child.stop()
      throw new Error(`mosquitto did not listen on ${port} within 5 s:\n${child.tail().join('\n')}`)
    }
    await new Promise((r) => setTimeout(r, 50))
  }
  return { port, pid: child.pid, version, stop: () => child.stop() }
}
