// One OPC UA client session opened the way Takt always opens them: its own PKI, the profile's security, no hidden retries.
import { hostname } from 'node:os'
import { format } from 'node:util'
import type { OPCUACertificateManager } from 'node-opcua-certificate-manager'
import { setErrorLogger, setWarningLogger } from 'node-opcua-debug'
import { MessageSecurityMode, OPCUAClient, SecurityPolicy, UserTokenType, type ClientSession } from 'node-opcua-client'
import type { Logger } from 'pino'
import { describeConnectionError } from './pki.ts'

export type SecurityModeName = 'None' | 'Sign' | 'SignAndEncrypt'
export type SecurityPolicyName = 'None' | 'Basic256Sha256' | 'Aes128_Sha256_RsaOaep' | 'Aes256_Sha256_RsaPss'

export interface SessionOptions {
  endpoint: string
  securityMode: SecurityModeName
  securityPolicy: SecurityPolicyName
  username?: string
  password?: string
  /** The client's PKI (see pki.ts); shared by every client of one collector. */
  certificates: OPCUACertificateManager
  pkiDir: string
  /** Shown in the server's session list, e.g. the device name. */
  sessionName: string
  /** The whole open — TCP, secure channel, session — must finish within this; default 15 s. */
  timeoutMs?: number
  /** Longer than the subscription's keep-alive period, or the server may close the session between keep-alives. */
  sessionTimeoutMs?: number
  /** A socket silent this long is closed; it must outlast the keep-alive period. Default 60 s. */
  idleTimeoutMs?: number
}

export interface OpenSession {
  client: OPCUAClient
  session: ClientSession
}

/** The application name is part of the client certificate's URI (urn:<host>:<name>), so it never changes. */
export const applicationName = 'Takt gateway'

/** Checks the security settings go together, so a bad profile is refused before any connection. */
export function checkSecurity(mode: SecurityModeName, policy: SecurityPolicyName): string | null {
  // OPC 10000-4 7.15: MessageSecurityMode None goes with SecurityPolicy None and only with it.
  if (mode === 'None' && policy !== 'None') return `securityMode None cannot use securityPolicy ${policy}; use None or choose Sign / SignAndEncrypt`
  if (mode !== 'None' && policy === 'None') return `securityMode ${mode} needs a securityPolicy such as Basic256Sha256`
  return null
}

let libraryLogsRouted = false

/**
 * node-opcua prints its warnings to the console, process-wide. They go to the gateway's log instead:
 * warnings at debug (the collector logs what matters, with the reason), errors at warn.
 */
export function routeLibraryLogs(logger: Logger): void {
  if (libraryLogsRouted) return
  libraryLogsRouted = true
  const log = logger.child({ module: 'node-opcua' })
  const text = (args: unknown[]) => format(...args).replace(/\x1b\[[0-9;]*m/g, '').trim()
  // The first argument is node-opcua's call site ({ filename, callerline }), the rest the message.
  const source = (context: unknown) => (context as { filename?: string } | undefined)?.filename
  setWarningLogger((context, ...args) => log.debug({ source: source(context) }, text(args)))
  setErrorLogger((context, ...args) => log.warn({ source: source(context) }, text(args)))
}

function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timeout: ${what} took longer than ${ms} ms`)), ms)))
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer))
}

/**
 * Connects and creates a session. node-opcua's own reconnection is switched off (maxRetry 0): the
 * caller decides when to retry, and a lost connection surfaces as an event instead of a silent
 * repair. A failure is thrown as an Error whose message is the reason a technician can act on.
 */
export async function openSession(options: SessionOptions): Promise<OpenSession> {
  const problem = checkSecurity(options.securityMode, options.securityPolicy)
  if (problem) throw new Error(problem)
  const timeoutMs = options.timeoutMs ?? 15_000
  const client = OPCUAClient.create({
    applicationName,
    applicationUri: `urn:${hostname()}:takt-gateway`,
    clientName: options.sessionName,
    clientCertificateManager: options.certificates,
    securityMode: MessageSecurityMode[options.securityMode],
    securityPolicy: SecurityPolicy[options.securityPolicy],
    connectionStrategy: { maxRetry: 0, initialDelay: 100, maxDelay: 1000 },
    endpointMustExist: false,
    keepSessionAlive: false,
    requestedSessionTimeout: options.sessionTimeoutMs ?? 60_000,
    transportTimeout: options.idleTimeoutMs ?? 60_000,
    defaultTransactionTimeout: timeoutMs,
  })
  try {
    await withTimeout(client.connect(options.endpoint), timeoutMs, `connecting to ${options.endpoint}`)
    // OPC 10000-4 7.41: a UserNameIdentityToken when a user is configured, anonymous otherwise.
    const identity =
      options.username !== undefined ? { type: UserTokenType.UserName as const, userName: options.username, password: options.password ?? '' } : { type: UserTokenType.Anonymous as const }
    const session = await withTimeout(client.createSession(identity), timeoutMs, 'creating the session')
    return { client, session }
  } catch (error) {
    await closeClient(client, null, 2_000)
    throw new Error(describeConnectionError(error, options.pkiDir), { cause: error })
  }
}

/** Closes the session and the connection; a server that no longer answers is given up on after timeoutMs. */
export async function closeClient(client: OPCUAClient, session: ClientSession | null, timeoutMs = 2_000): Promise<void> {
  const work = (async () => {
    if (session) await session.close(true).catch(() => {})
    await client.disconnect().catch(() => {})
  })()
  await withTimeout(work, timeoutMs, 'closing the session').catch(() => {})
}
