// The central views (OEE, WIP, genealogy, gateway states) on embedded PGlite (its own file: PGlite's start is slow).
import t from 'tap'
import { backends } from './test/backends.ts'
import { centralSuite } from './test/central-suite.ts'

centralSuite(t, backends.find((b) => b.name === 'pglite')!)
