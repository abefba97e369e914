// Token rotation and the reported backlog with cloud-sync on a fresh database of the machine's PostgreSQL server.
import t from 'tap'
import { backends } from '../../cloud-sync/test/backends.ts'
import { rotationSuite } from './test/rotation-suite.ts'

rotationSuite(t, backends.find((b) => b.name === 'postgres')!)
