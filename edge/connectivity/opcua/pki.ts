// The gateway's OPC UA PKI in its data directory: the client certificate, the servers it trusts and the ones it refused.
import { X509Certificate } from 'node:crypto'
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync } from 'node:fs'
import { basename, join } from 'node:path'
import { OPCUACertificateManager } from 'node-opcua-certificate-manager'

/**
 * The PKI folder layout (node-opcua-pki, after OPC 10000-12 F.1):
 *   own/certs/client_certificate.pem, own/private/private_key.pem — created once, on first use
 *   trusted/certs/ — server certificates this gateway accepts
 *   rejected/     — server certificates it has seen and refused, waiting for a technician
 */
export function clientCertificates(pkiDir: string): OPCUACertificateManager {
  // An unknown server certificate is never accepted on its own: it lands in rejected/ and the connection fails.
  return new OPCUACertificateManager({ rootFolder: pkiDir, automaticallyAcceptUnknownCertificate: false, keySize: 2048 })
}

export interface CertificateInfo {
  file: string
  /** SHA-1 thumbprint in hex, lower case, as OPC UA tools show it (OPC 10000-6 6.2.2). */
  thumbprint: string
  subject: string
  validTo: string
  /** The application URI from subjectAltName. */
  applicationUri: string | null
}

function parse(file: string): X509Certificate {
  const bytes = readFileSync(file)
  try {
    return new X509Certificate(bytes)
  } catch (error) {
    throw new Error(`${file}: not an X.509 certificate in DER or PEM form`, { cause: error })
  }
}

function describe(file: string, cert: X509Certificate): CertificateInfo {
  const uri = /URI:([^,\s]+)/.exec(cert.subjectAltName ?? '')
  return { file, thumbprint: cert.fingerprint.replaceAll(':', '').toLowerCase(), subject: cert.subject.replaceAll('\n', ', '), validTo: cert.validTo, applicationUri: uri?.[1] ?? null }
}

function certificatesIn(dir: string): CertificateInfo[] {
  if (!existsSync(dir)) return []
  return readdirSync(dir)
    .filter((f) => /\.(der|pem|crt|cer)$/i.test(f))
    .map((f) => join(dir, f))
    .map((file) => describe(file, parse(file)))
}

/** Server certificates refused so far, newest knowledge first by file name. */
export function rejectedCertificates(pkiDir: string): CertificateInfo[] {
  return certificatesIn(join(pkiDir, 'rejected'))
}

export function trustedCertificates(pkiDir: string): CertificateInfo[] {
  return certificatesIn(join(pkiDir, 'trusted', 'certs'))
}

/** Trusts a server certificate given as a file (DER or PEM), e.g. one exported from the PLC's web page. */
export function trustCertificateFile(pkiDir: string, file: string): CertificateInfo {
  const info = describe(file, parse(file))
  const dir = join(pkiDir, 'trusted', 'certs')
  mkdirSync(dir, { recursive: true })
  // Named by thumbprint: two PLCs export their certificates under the same file name more often than not.
  const ext = /\.pem$/i.test(file) ? '.pem' : '.der'
  const target = join(dir, `${basename(file).replace(/\.(pem|der|crt|cer)$/i, '')}[${info.thumbprint}]${ext}`)
  copyFileSync(file, target)
  return { ...info, file: target }
}

/** Moves a refused certificate into trusted/ by (a prefix of at least 8 characters of) its thumbprint. */
export function trustRejected(pkiDir: string, thumbprint: string): CertificateInfo {
  const wanted = thumbprint.replaceAll(':', '').toLowerCase()
  if (wanted.length < 8) throw new Error('give at least 8 characters of the thumbprint')
  const matches = rejectedCertificates(pkiDir).filter((c) => c.thumbprint.startsWith(wanted))
  if (matches.length !== 1) throw new Error(matches.length === 0 ? `no refused certificate in ${join(pkiDir, 'rejected')} has thumbprint ${wanted}…` : `thumbprint ${wanted}… matches ${matches.length} certificates; give more of it`)
  const found = matches[0]!
  const dir = join(pkiDir, 'trusted', 'certs')
  mkdirSync(dir, { recursive: true })
  const target = join(dir, basename(found.file))
  renameSync(found.file, target)
  return { ...found, file: target }
}

/** Turns what node-opcua throws on connect into a reason a technician can act on (it becomes the samples' reason too). */
export function describeConnectionError(error: unknown, pkiDir: string): string {
  const message = error instanceof Error ? error.message : String(error)
  if (/server Certificate verification failed.*(BadCertificateUntrusted|BadCertificateChainIncomplete)/i.test(message)) {
    return `server certificate not trusted (BadCertificateUntrusted): it was put in ${join(pkiDir, 'rejected')}; trust it by moving it to ${join(pkiDir, 'trusted', 'certs')}`
  }
  const status = /server Certificate verification failed with err (\w+)/i.exec(message)
  if (status) return `server certificate refused (${status[1]})`
  if (/BadSecurityChecksFailed|BadCertificate\w*/.test(message) && !/server Certificate/i.test(message)) {
    const code = /Bad\w+/.exec(message)![0]
    return `the server refused this gateway (${code}): trust ${join(pkiDir, 'own', 'certs', 'client_certificate.pem')} on the server`
  }
  if (/BadIdentityTokenRejected|BadUserAccessDenied|BadIdentityTokenInvalid/.test(message)) return `the server refused the user (${/Bad\w+/.exec(message)![0]}): check username and password`
  if (/cannot find endpoint|Cannot find an Endpoint/i.test(message)) return `the server offers no endpoint with this security: ${message.replace(/\s+/g, ' ').slice(0, 200)}`
  const errno = /\b(ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|ETIMEDOUT|EPIPE)\b/.exec(message)
  if (errno) return `connection: ${errno[1]}`
  return message.replace(/\s+/g, ' ').slice(0, 300)
}
