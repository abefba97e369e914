// Broker persistence that survives a restart: aedes' in-memory store, written through to a SQLite file and reloaded at start.
import Database from 'better-sqlite3'
import { createRequire } from 'node:module'
import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'

const require = createRequire(import.meta.url)
// aedes' own in-memory persistence; we keep its matching logic and add durability around it.
const MemoryPersistence = require('aedes-persistence/asyncPersistence.js') as new () => MemoryStore

interface StoredPacket {
  cmd?: string
  brokerId?: string
  brokerCounter?: number
  topic: string
  payload: Buffer
  qos: number
  retain: boolean
  dup?: boolean
  messageId?: number
}

interface ClientRef {
  id: string
}

interface Subscription {
  topic: string
  qos: number
  rh?: number
  rap?: boolean
  nl?: boolean
}

interface MemoryStore {
  setup(broker: unknown): Promise<void>
  storeRetained(packet: StoredPacket): Promise<void>
  addSubscriptions(client: ClientRef, subs: Subscription[]): Promise<void>
  removeSubscriptions(client: ClientRef, topics: string[]): Promise<void>
  cleanSubscriptions(client: ClientRef): Promise<void>
  subscriptionsByTopic(topic: string): Promise<Array<Subscription & { clientId: string }>>
  outgoingEnqueue(sub: { clientId: string }, packet: StoredPacket): Promise<void>
  outgoingEnqueueCombi(subs: Array<{ clientId: string }>, packet: StoredPacket): Promise<void>
  outgoingUpdate(client: ClientRef, packet: StoredPacket): Promise<void>
  outgoingClearMessageId(client: ClientRef, packet: StoredPacket): Promise<StoredPacket | undefined>
  destroy(): Promise<void>
}

const encode = (p: StoredPacket) =>
  JSON.stringify({ cmd: p.cmd ?? 'publish', brokerId: p.brokerId, brokerCounter: p.brokerCounter, topic: p.topic, payload: Buffer.from(p.payload).toString('base64'), qos: p.qos, retain: p.retain, messageId: p.messageId })

function decode(text: string): StoredPacket {
  const raw = JSON.parse(text) as Omit<StoredPacket, 'payload'> & { payload: string }
  return { ...raw, payload: Buffer.from(raw.payload, 'base64') }
}

/**
 * Retained messages, persistent sessions' subscriptions and their queued QoS 1/2 messages are
 * kept in SQLite (WAL, synchronous=NORMAL: they survive a process restart or crash).
 */
export function sqlitePersistence(file: string): MemoryStore {
  mkdirSync(dirname(file), { recursive: true })
  const db = new Database(file)
  db.pragma('journal_mode = WAL')
  db.pragma('synchronous = NORMAL')
  db.exec(`
    CREATE TABLE IF NOT EXISTS retained (topic TEXT PRIMARY KEY, packet TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS subscriptions (client_id TEXT NOT NULL, topic TEXT NOT NULL, options TEXT NOT NULL, PRIMARY KEY (client_id, topic));
    CREATE TABLE IF NOT EXISTS outgoing (id INTEGER PRIMARY KEY, client_id TEXT NOT NULL, broker_id TEXT, broker_counter INTEGER, packet TEXT NOT NULL);
    CREATE INDEX IF NOT EXISTS outgoing_client ON outgoing (client_id, broker_id, broker_counter);
  `)
  const q = {
    putRetained: db.prepare('INSERT OR REPLACE INTO retained (topic, packet) VALUES (?, ?)'),
    delRetained: db.prepare('DELETE FROM retained WHERE topic = ?'),
    putSub: db.prepare('INSERT OR REPLACE INTO subscriptions (client_id, topic, options) VALUES (?, ?, ?)'),
    delSub: db.prepare('DELETE FROM subscriptions WHERE client_id = ? AND topic = ?'),
    delSubs: db.prepare('DELETE FROM subscriptions WHERE client_id = ?'),
    enqueue: db.prepare('INSERT INTO outgoing (client_id, broker_id, broker_counter, packet) VALUES (?, ?, ?, ?)'),
    update: db.prepare('UPDATE outgoing SET packet = ? WHERE client_id = ? AND broker_id = ? AND broker_counter = ?'),
    clear: db.prepare('DELETE FROM outgoing WHERE client_id = ? AND broker_id IS ? AND broker_counter IS ?'),
  }
  const enqueueAll = db.transaction((subs: Array<{ clientId: string }>, packet: StoredPacket, text: string) => {
    for (const sub of subs) q.enqueue.run(sub.clientId, packet.brokerId ?? null, packet.brokerCounter ?? null, text)
  })

  const pendingRetained = new Map<string, StoredPacket>()
  let retainTimer: NodeJS.Timeout | null = null
  const writeRetained = db.transaction((packets: StoredPacket[]) => {
    for (const p of packets) {
      if (p.payload.length === 0) q.delRetained.run(p.topic)
      else q.putRetained.run(p.topic, encode(p))
    }
  })
  const flushRetained = () => {
    if (retainTimer) clearTimeout(retainTimer)
    retainTimer = null
    if (pendingRetained.size === 0) return
    const packets = [...pendingRetained.values()]
    pendingRetained.clear()
    writeRetained(packets)
  }

  /**
   * Persistent sessions' QoS 1/2 subscriptions by topic: aedes asks for every QoS 1 publication,
   * a device publishes to the same few topics again and again, and the subscriptions change rarely.
   */
  const byTopic = new Map<string, Promise<Array<Subscription & { clientId: string }>>>()
  const topicsKept = 4096

  class SqlitePersistence extends MemoryPersistence {
    override async setup(broker: unknown): Promise<void> {
      await super.setup(broker)
      for (const row of db.prepare('SELECT packet FROM retained').all() as Array<{ packet: string }>) await super.storeRetained(decode(row.packet))
      const subs = new Map<string, Subscription[]>()
      for (const row of db.prepare('SELECT client_id, topic, options FROM subscriptions').all() as Array<{ client_id: string; topic: string; options: string }>) {
        const list = subs.get(row.client_id) ?? []
        list.push({ topic: row.topic, ...(JSON.parse(row.options) as Omit<Subscription, 'topic'>) })
        subs.set(row.client_id, list)
      }
      for (const [id, list] of subs) await super.addSubscriptions({ id }, list)
      for (const row of db.prepare('SELECT client_id, packet FROM outgoing ORDER BY id').all() as Array<{ client_id: string; packet: string }>) {
        await super.outgoingEnqueue({ clientId: row.client_id }, decode(row.packet))
      }
      byTopic.clear()
    }

    override async storeRetained(packet: StoredPacket): Promise<void> {
      await super.storeRetained(packet)
      // Retained state changes fast (an order's state, a work center's run); the disk keeps the latest,
      // written in one transaction a few times a second rather than once per message.
      pendingRetained.set(packet.topic, packet)
      retainTimer ??= setTimeout(flushRetained, 100)
    }

    override subscriptionsByTopic(topic: string): Promise<Array<Subscription & { clientId: string }>> {
      let found = byTopic.get(topic)
      if (found === undefined) {
        found = super.subscriptionsByTopic(topic)
        if (byTopic.size >= topicsKept) byTopic.clear()
        byTopic.set(topic, found)
        // A lookup that failed is asked again next time, not remembered.
        found.catch(() => byTopic.get(topic) === found && byTopic.delete(topic))
      }
      return found
    }

    override async addSubscriptions(client: ClientRef, subs: Subscription[]): Promise<void> {
      byTopic.clear()
      await super.addSubscriptions(client, subs)
      byTopic.clear()
      db.transaction(() => {
        for (const { topic, ...options } of subs) q.putSub.run(client.id, topic, JSON.stringify(options))
      })()
    }

    override async removeSubscriptions(client: ClientRef, topics: string[]): Promise<void> {
      byTopic.clear()
      await super.removeSubscriptions(client, topics)
      byTopic.clear()
      db.transaction(() => {
        for (const topic of topics) q.delSub.run(client.id, topic)
      })()
    }

    override async cleanSubscriptions(client: ClientRef): Promise<void> {
      byTopic.clear()
      await super.cleanSubscriptions(client)
      byTopic.clear()
      q.delSubs.run(client.id)
    }

    override async outgoingEnqueue(sub: { clientId: string }, packet: StoredPacket): Promise<void> {
      await super.outgoingEnqueue(sub, packet)
      q.enqueue.run(sub.clientId, packet.brokerId ?? null, packet.brokerCounter ?? null, encode(packet))
    }

    override async outgoingEnqueueCombi(subs: Array<{ clientId: string }>, packet: StoredPacket): Promise<void> {
      // aedes calls this for every QoS 1 publication, also when no persistent session wants it.
      if (subs.length === 0) return
      await super.outgoingEnqueueCombi(subs, packet)
      enqueueAll(subs, packet, encode(packet))
    }

    override async outgoingUpdate(client: ClientRef, packet: StoredPacket): Promise<void> {
      await super.outgoingUpdate(client, packet)
      q.update.run(encode(packet), client.id, packet.brokerId ?? null, packet.brokerCounter ?? null)
    }

    override async outgoingClearMessageId(client: ClientRef, packet: StoredPacket): Promise<StoredPacket | undefined> {
      const cleared = await super.outgoingClearMessageId(client, packet)
      if (cleared) q.clear.run(client.id, cleared.brokerId ?? null, cleared.brokerCounter ?? null)
      return cleared
    }

    override async destroy(): Promise<void> {
      flushRetained()
      await super.destroy()
      db.close()
    }
  }
  return new SqlitePersistence()
}
