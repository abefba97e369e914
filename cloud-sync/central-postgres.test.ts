// The central views (OEE, WIP, genealogy, gateway states) on a fresh database of the machine's PostgreSQL server.
import t from 'tap'
import { backends } from './test/backends.ts'
import { centralSuite } from './test/central-suite.ts'

centralSuite(t, backends.find((b) => b.name === 'postgres')!)
