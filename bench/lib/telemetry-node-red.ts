// Node-RED (from npm) as the telemetry bench's flow peer: MQTT in from Mosquitto → a function node that writes the samples to SQLite with better-sqlite3.
//
// Node-RED's own SQLite node needs a native module fetched from GitHub, which cannot be built
// here, so the flow's function node gets better-sqlite3 through `functionGlobalContext` and
// writes exactly as the gateway's historian does: the same tables and time-first index, WAL,
// synchronous=NORMAL, rows gathered and committed in one transaction every 20 ms or 10,000 rows.
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { freePort, projectRoot } from './gateway-process.ts'
import { spawnChild } from './telemetry-children.ts'

export interface NodeRedOptions {
  dir: string
  mqttPort: number
  username: string
  password: string
  filter: string
}

export interface NodeRed {
  pid: number
  version: string
  dbFile: string
  /** What the flow does, for the bench notes. */
  description: string
  stop(): Promise<void>
}

/** The function node's "On Start": opens the store and keeps a batching writer in the node's context. */
const initialize = (dbFile: string) => `
const Database = global.get('Database');
const db = new Database(${JSON.stringify(dbFile)});
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.exec(\`
  CREATE TABLE IF NOT EXISTS signals (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
  CREATE TABLE IF NOT EXISTS samples (ts INTEGER NOT NULL, signal_id INTEGER NOT NULL, value REAL, text TEXT, quality INTEGER NOT NULL);
  CREATE INDEX IF NOT EXISTS samples_ts ON samples (ts, signal_id);
\`);
const insertSignal = db.prepare('INSERT INTO signals (name) VALUES (?)');
const insertSample = db.prepare('INSERT INTO samples (ts, signal_id, value, text, quality) VALUES (?, ?, ?, ?, ?)');
const ids = new Map();
const idOf = (name) => {
  let id = ids.get(name);
  if (id === undefined) { id = Number(insertSignal.run(name).lastInsertRowid); ids.set(name, id); }
  return id;
};
const write = db.transaction((rows) => { for (const r of rows) insertSample.run(r.ts, idOf(r.signal), r.value, null, 0); });
let rows = [];
let timer = null;
const flush = () => {
  if (timer) { clearTimeout(timer); timer = null; }
  const batch = rows;
  rows = [];
  if (batch.length > 0) write(batch);
};
context.set('historian', {
  db,
  flush,
  add(ts, signal, value) {
    rows.push({ ts, signal, value });
    if (rows.length >= 10000) flush();
    else if (!timer) timer = setTimeout(flush, 20);
  },
});
`

/** The function node's body: one row per numeric member of the parsed payload, named device/member. */
const onMessage = `
const historian = context.get('historian');
const device = msg.topic.split('/')[1];
const ts = Date.now();
for (const key in msg.payload) historian.add(ts, device + '/' + key, msg.payload[key]);
return null;
`

const finalize = `
const historian = context.get('historian');
historian.flush();
historian.db.close();
`

function flow(o: NodeRedOptions, dbFile: string): unknown[] {
  return [
    { id: 'bench-tab', type: 'tab', label: 'telemetry' },
    { id: 'bench-broker', type: 'mqtt-broker', name: 'mosquitto', broker: '127.0.0.1', port: String(o.mqttPort), clientid: 'node-red-bench', autoConnect: true, usetls: false, protocolVersion: '4', keepalive: '60', cleansession: true },
    { id: 'bench-in', type: 'mqtt in', z: 'bench-tab', name: 'devices', topic: o.filter, qos: '1', datatype: 'json', broker: 'bench-broker', nl: false, rap: true, rh: 0, inputs: 0, wires: [['bench-store']] },
    { id: 'bench-store', type: 'function', z: 'bench-tab', name: 'to SQLite', func: onMessage, initialize: initialize(dbFile), finalize, outputs: 0, timeout: 0, noerr: 0, libs: [], wires: [] },
  ]
}

function settings(dir: string, port: number): string {
  const sqlite = join(projectRoot, 'node_modules', 'better-sqlite3')
  return `module.exports = {
  uiHost: '127.0.0.1',
  uiPort: ${port},
  userDir: ${JSON.stringify(dir)},
  flowFile: 'flows.json',
  credentialSecret: false,
  disableEditor: true,
  diagnostics: { enabled: false, ui: false },
  telemetry: { enabled: false, updateNotification: false },
  externalModules: { autoInstall: false, palette: { allowInstall: false }, modules: { allowInstall: false } },
  functionGlobalContext: { Database: require(${JSON.stringify(sqlite)}) },
  logging: { console: { level: 'info', metrics: false, audit: false } },
}
`
}

export async function startNodeRed(o: NodeRedOptions): Promise<NodeRed> {
  const dbFile = join(o.dir, 'node-red-telemetry.db')
  writeFileSync(join(o.dir, 'flows.json'), JSON.stringify(flow(o, dbFile), null, 2))
  // With credentialSecret false Node-RED reads the broker's credentials in plain text.
  writeFileSync(join(o.dir, 'flows_cred.json'), JSON.stringify({ 'bench-broker': { user: o.username, password: o.password } }))
  const settingsFile = join(o.dir, 'settings.js')
  writeFileSync(settingsFile, settings(o.dir, await freePort()))
  const red = join(projectRoot, 'node_modules', 'node-red')
  const version = (JSON.parse(readFileSync(join(red, 'package.json'), 'utf8')) as { version: string }).version
  const child = spawnChild('node-red', process.execPath, [join(red, 'red.js'), '--settings', settingsFile, '--userDir', o.dir, 'flows.json'])
  try {
    await child.text(/Connected to broker/, 30_000)
  } catch (error) {
    await child.stop()
    throw error
  }
  const description =
    `Node-RED ${version} (node-red from npm, run from node_modules with a generated settings file, editor disabled) with one flow: an \`mqtt in\` node (Mosquitto, \`${o.filter}\`, QoS 1, output parsed JSON) wired to a function node that ` +
    'adds one row per member of the payload (signal device/member, the time of arrival) to a buffer and writes the buffer with better-sqlite3 (given to the node through `functionGlobalContext`, as Node-RED\'s own SQLite node cannot be installed here) ' +
    'in one transaction every 20 ms or at 10,000 rows — the historian\'s tables, time-first index and batching, WAL, synchronous=NORMAL. Node-RED acknowledges each QoS 1 message to Mosquitto on arrival, before it is written.'
  return { pid: child.pid, version, dbFile, description, stop: () => child.stop() }
}
