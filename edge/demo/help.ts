// `takt demo --help`: what the demo runs and the environment that sets it up.
import { demoPorts } from './ports.ts'

const portLines = Object.values(demoPorts).map((p) => `  ${p.variable.padEnd(24)}${p.what} (default ${p.fallback})`)

export const demoHelp = `Usage: takt demo      (npm start)

Runs a whole demo line in one process: cloud-sync on embedded PGlite, one gateway that pushes
its events to it and follows its line's orders from it, the simulated machines of
simulators/scenarios/demo-line.yaml (a Modbus press, two OPC UA machines that sign and encrypt,
a Sparkplug labeler), a day of orders sent to the cloud, and a crew of demo operators who work
the dispatch lists through the gateway's API. Ctrl-C stops it all. A second start resumes the
same data. The demo trusts its own simulated OPC UA machines' certificates; a real line keeps
the manual \`takt opcua trust\` step.

Environment (each port: 0 picks a free one):
${portLines.join('\n')}
  TAKT_DATA_DIR           data directory (default ./data; the cloud's database in its cloud/)
  TAKT_HTTP_HOST          address everything listens on (default 127.0.0.1)
  TAKT_DEMO_SPEED         simulated seconds per real second (default 1; e.g. 60 for a soak run)
  TAKT_DEMO_CREW          off: no demo operators, the machines run and orders wait (default on)
  TAKT_LOG_LEVEL          fatal|error|warn|info|debug|trace|silent (default warn)
  TAKT_ADMIN_TOKEN        the admin API token of the gateway and the cloud (default: the demo's)
  TAKT_GATEWAY_ID         the gateway's id in the cloud (default gateway-1)
`
