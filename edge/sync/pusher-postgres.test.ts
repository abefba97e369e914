// The pusher's suite with cloud-sync on a fresh database of the machine's PostgreSQL server.
import t from 'tap'
import { backends } from '../../cloud-sync/test/backends.ts'
import { pusherSuite } from './test/pusher-suite.ts'

pusherSuite(t, backends.find((b) => b.name === 'postgres')!)
