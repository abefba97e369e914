// The demo's settings from the environment, checked before anything heavy loads: a wrong one is one line naming the variable.
import { resolve } from 'node:path'
import { demoAdminToken } from '../demo.ts'
import { DemoSetupError, portsFrom, type DemoPorts } from './ports.ts'

const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']

export interface DemoSettings {
  dataDir: string
  host: string
  speed: number
  crew: boolean
  logLevel: string
  adminToken: string
  gatewayId: string
  ports: DemoPorts
}

export function settingsFrom(env: NodeJS.ProcessEnv): DemoSettings {
  const speedText = env.TAKT_DEMO_SPEED || '1'
  const speed = Number(speedText)
  if (!/^\d+(\.\d+)?$/.test(speedText) || !(speed > 0) || speed > 10_000) throw new DemoSetupError(`TAKT_DEMO_SPEED: '${speedText}' is not a speed (a number above 0, at most 10000)`)
  const logLevel = env.TAKT_LOG_LEVEL || 'warn'
  if (!logLevels.includes(logLevel)) throw new DemoSetupError(`TAKT_LOG_LEVEL: '${logLevel}' is not one of ${logLevels.join('|')}`)
  const crew = (env.TAKT_DEMO_CREW || 'on').toLowerCase()
  if (crew !== 'on' && crew !== 'off') throw new DemoSetupError(`TAKT_DEMO_CREW: '${env.TAKT_DEMO_CREW}' is not on or off`)
  const adminToken = env.TAKT_ADMIN_TOKEN || demoAdminToken
  if (adminToken.length < 24) throw new DemoSetupError('TAKT_ADMIN_TOKEN: must be at least 24 characters')
  return { dataDir: resolve(env.TAKT_DATA_DIR || './data'), host: env.TAKT_HTTP_HOST || '127.0.0.1', speed, crew: crew === 'on', logLevel, adminToken, gatewayId: env.TAKT_GATEWAY_ID || 'gateway-1', ports: portsFrom(env) }
}
