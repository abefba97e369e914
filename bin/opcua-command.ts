// takt opcua: browse a server's address space (and draft a profile), list and trust server certificates in the gateway's PKI.
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'

export const opcuaHelp = `Usage:
  takt opcua browse URL [--start NODEID] [--depth N] [--security MODE[:POLICY]] [--user NAME] [--skeleton PROFILE-NAME]
      list the variables under a node (default Objects); with --skeleton print a profile to edit
      (the password for --user is read from TAKT_OPCUA_PASSWORD)
  takt opcua rejected             server certificates refused so far, with their thumbprints
  takt opcua trust THUMBPRINT     trust a refused server certificate (compare the thumbprint with the PLC's first)
The PKI is <data dir>/opcua-pki (TAKT_DATA_DIR, default ./data), the one the gateway uses.
`

const modes = ['None', 'Sign', 'SignAndEncrypt'] as const
const policies = ['None', 'Basic256Sha256', 'Aes128_Sha256_RsaOaep', 'Aes256_Sha256_RsaPss'] as const

function fail(message: string): never {
  process.stderr.write(`takt opcua: ${message}\n`)
  process.exit(2)
}

export async function runOpcua(args: string[]): Promise<void> {
  const [verb, ...rest] = args
  const pkiDir = join(resolve(process.env.TAKT_DATA_DIR || './data'), 'opcua-pki')
  const opcua = await import('../edge/connectivity/opcua/index.ts')
  if (verb === 'rejected') {
    const certs = opcua.rejectedCertificates(pkiDir)
    if (certs.length === 0) process.stdout.write(`no refused server certificates in ${pkiDir}\n`)
    for (const c of certs) process.stdout.write(`${JSON.stringify(c)}\n`)
    return
  }
  if (verb === 'trust') {
    if (!rest[0]) fail('give the thumbprint of the certificate to trust (takt opcua rejected lists them)')
    process.stdout.write(`trusted ${JSON.stringify(opcua.trustRejected(pkiDir, rest[0]))}\n`)
    return
  }
  if (verb !== 'browse') fail(`unknown verb '${verb ?? ''}'\n\n${opcuaHelp}`)
  const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { start: { type: 'string' }, depth: { type: 'string' }, security: { type: 'string' }, user: { type: 'string' }, skeleton: { type: 'string' } } })
  const url = positionals[0]
  if (!url || !/^opc\.tcp:\/\//.test(url)) fail('browse needs the server URL, opc.tcp://host:port')
  const [mode = 'None', policy = mode === 'None' ? 'None' : 'Basic256Sha256'] = (values.security ?? 'None').split(':')
  if (!(modes as readonly string[]).includes(mode)) fail(`--security: '${mode}' is not one of ${modes.join(', ')}`)
  if (!(policies as readonly string[]).includes(policy)) fail(`--security: policy '${policy}' is not one of ${policies.join(', ')}`)
  const depth = values.depth === undefined ? undefined : Number(values.depth)
  if (depth !== undefined && !(Number.isInteger(depth) && depth >= 1 && depth <= 20)) fail('--depth must be a whole number from 1 to 20')
  const password = process.env.TAKT_OPCUA_PASSWORD
  if (values.user && !password) fail('--user needs the password in TAKT_OPCUA_PASSWORD')
  const result = await opcua.browse(url, {
    pkiDir,
    securityMode: mode as (typeof modes)[number],
    securityPolicy: policy as (typeof policies)[number],
    ...(values.user ? { username: values.user, password: password! } : {}),
    ...(values.start ? { startNodeId: values.start } : {}),
    ...(depth ? { maxDepth: depth } : {}),
  })
  process.stdout.write(values.skeleton ? opcua.profileSkeleton(result, { profile: values.skeleton, securityMode: mode as (typeof modes)[number], securityPolicy: policy as (typeof policies)[number] }) : opcua.formatVariables(result))
}
