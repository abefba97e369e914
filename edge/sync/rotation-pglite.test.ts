// Token rotation and the reported backlog with cloud-sync on embedded PGlite.
import t from 'tap'
import { backends } from '../../cloud-sync/test/backends.ts'
import { rotationSuite } from './test/rotation-suite.ts'

rotationSuite(t, backends.find((b) => b.name === 'pglite')!)
