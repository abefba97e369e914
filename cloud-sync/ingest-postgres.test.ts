// The push endpoint's contract on a fresh database of the machine's PostgreSQL server.
import t from 'tap'
import { backends } from './test/backends.ts'
import { ingestSuite } from './test/ingest-suite.ts'

ingestSuite(t, backends.find((b) => b.name === 'postgres')!)
