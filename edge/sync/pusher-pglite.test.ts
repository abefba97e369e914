// The pusher's suite with cloud-sync on embedded PGlite.
import t from 'tap'
import { backends } from '../../cloud-sync/test/backends.ts'
import { pusherSuite } from './test/pusher-suite.ts'

pusherSuite(t, backends.find((b) => b.name === 'pglite')!)
