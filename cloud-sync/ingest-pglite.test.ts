// The push endpoint's contract on embedded PGlite (its own file: PGlite's start is slow, and this runs beside the PostgreSQL one).
import t from 'tap'
import { backends } from './test/backends.ts'
import { ingestSuite } from './test/ingest-suite.ts'

ingestSuite(t, backends.find((b) => b.name === 'pglite')!)
