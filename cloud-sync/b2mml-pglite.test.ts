// The cloud's B2MML intake on embedded PGlite (its own file: PGlite's start is slow).
import t from 'tap'
import { backends } from './test/backends.ts'
import { b2mmlSuite } from './test/b2mml-suite.ts'

b2mmlSuite(t, backends.find((b) => b.name === 'pglite')!)
