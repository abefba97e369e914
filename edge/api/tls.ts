// The gateway's TLS certificate for HTTPS (and MQTT over TLS): your own files, or one self-signed at first start in the data directory.
import { X509Certificate } from 'node:crypto'
import { existsSync, readFileSync, statSync } from 'node:fs'
import { isIP } from 'node:net'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { ConfigError } from '../config.ts'

export type TlsSetting = 'auto' | 'self-signed' | 'off' | { certFile: string; keyFile: string }

export interface TlsMaterial {
  cert: Buffer
  key: Buffer
  certFile: string
  keyFile: string
  /** SHA-256 of the certificate (DER), colon-separated hex, as browsers show it: what a technician compares on first connect. */
  fingerprint256: string
  selfSigned: boolean
  validTo: string
}

const loopback = (host: string) => host === 'localhost' || host === '::1' || /^127\./.test(host)

/** Whether the HTTP listener speaks TLS: `auto` does unless it listens on loopback only (a demo, a test, a reverse proxy beside it). */
export function httpTlsOn(setting: TlsSetting, host: string): boolean {
  if (setting === 'off') return false
  if (setting === 'auto') return !loopback(host)
  return true
}

/**
 * Refuses a secret file that its group or others may read. The gateway does not chmod it itself:
 * a key that was readable may already have been read, and the person who installed it should know.
 */
export function checkSecretFile(file: string, key: string): void {
  let mode: number
  try {
    mode = statSync(file).mode
  } catch (error) {
    throw new ConfigError([`${key}: ${file} cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`])
  }
  // POSIX permission bits only; Windows has no group/other bits to look at.
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    throw new ConfigError([`${key}: ${file} is readable by its group or others (mode ${(mode & 0o777).toString(8)}); a private key must be the owner's alone: chmod 600 ${file}`])
  }
}

/**
 * Whether a configuration file that holds one of these secrets in clear text may be read by its
 * group or others. Only warned about at start, not refused: the secret may as well come from the
 * environment, and the file is the installer's to fix (docs/security.md).
 */
export function secretsReadableByOthers(file: string, secrets: ReadonlyArray<string | null | undefined>): boolean {
  if (process.platform === 'win32') return false
  try {
    if ((statSync(file).mode & 0o077) === 0) return false
    const text = readFileSync(file, 'utf8')
    return secrets.some((secret) => typeof secret === 'string' && secret.length > 0 && text.includes(secret))
  } catch {
    return false
  }
}

/** The self-signed certificate's folder: the same PKI layout and certificate maker as the OPC UA client's (node-opcua-pki). */
export const selfSignedDir = (dataDir: string) => join(dataDir, 'tls')

/**
 * Makes the gateway's self-signed certificate once (RSA 2048, ten years, serverAuth and clientAuth),
 * naming this host, localhost and the listening address; later starts reuse it, so its fingerprint stays.
 * The key file is written 0600 by node-opcua-pki.
 */
export async function ensureSelfSigned(dataDir: string, gatewayId: string, hosts: string[]): Promise<{ certFile: string; keyFile: string }> {
  const root = selfSignedDir(dataDir)
  const certFile = join(root, 'own', 'certs', 'gateway.pem')
  const keyFile = join(root, 'own', 'private', 'private_key.pem')
  if (existsSync(certFile) && existsSync(keyFile)) return { certFile, keyFile }
  // Loaded only on the first start: the PKI library is not small, and later starts just read two files.
  const { CertificateManager } = await import('node-opcua-certificate-manager')
  const manager = new CertificateManager({ location: root, keySize: 2048 })
  try {
    await manager.initialize()
    const names = [...new Set([hostname(), 'localhost', ...hosts.filter((h) => !isIP(h) && h !== '')])]
    const ips = [...new Set(['127.0.0.1', '::1', ...hosts.filter((h) => isIP(h) !== 0 && h !== '0.0.0.0' && h !== '::')])]
    await manager.createSelfSignedCertificate({
      outputFile: certFile,
      subject: `/CN=takt-${gatewayId}/O=Takt`,
      applicationUri: `urn:takt:gateway:${gatewayId}`,
      dns: names,
      ip: ips,
      startDate: new Date(Date.now() - 60_000),
      validity: 3650,
    })
  } finally {
    await manager.dispose()
  }
  return { certFile, keyFile }
}

/** Reads the certificate and key for a listener, self-signing first if need be; every file problem is a ConfigError naming the file. */
export async function loadTls(setting: 'self-signed' | { certFile: string; keyFile: string }, dataDir: string, gatewayId: string, hosts: string[], key = 'http.tls'): Promise<TlsMaterial> {
  const own = typeof setting === 'object'
  const files = own ? setting : await ensureSelfSigned(dataDir, gatewayId, hosts)
  checkSecretFile(files.keyFile, own ? `${key}.keyFile` : key)
  let cert: Buffer
  let parsed: X509Certificate
  try {
    cert = readFileSync(files.certFile)
    parsed = new X509Certificate(cert)
  } catch (error) {
    throw new ConfigError([`${own ? `${key}.certFile` : key}: ${files.certFile} is not a readable PEM certificate (${(error as Error).message})`])
  }
  const keyPem = readFileSync(files.keyFile)
  return { cert, key: keyPem, certFile: files.certFile, keyFile: files.keyFile, fingerprint256: parsed.fingerprint256, selfSigned: !own, validTo: parsed.validTo }
}
