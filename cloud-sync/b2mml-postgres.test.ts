// The cloud's B2MML intake on a fresh database of the machine's PostgreSQL server.
import t from 'tap'
import { backends } from './test/backends.ts'
import { b2mmlSuite } from './test/b2mml-suite.ts'

b2mmlSuite(t, backends.find((b) => b.name === 'postgres')!)
