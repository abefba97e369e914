// Downstream sync's suite with cloud-sync on a fresh database of the machine's PostgreSQL server.
import t from 'tap'
import { backends } from '../../cloud-sync/test/backends.ts'
import { downstreamSuite } from './test/downstream-suite.ts'

downstreamSuite(t, backends.find((b) => b.name === 'postgres')!)
// @electric-sql/client keeps a 60 s timer to throttle a browser-only storage write, which would hold this process open after the last test.
t.teardown(() => setTimeout(() => process.exit(), 500).unref())
