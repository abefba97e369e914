// Central OEE with shift calendars on embedded PGlite (its own file: PGlite's start is slow).
import t from 'tap'
import { backends } from './test/backends.ts'
import { calendarSuite } from './test/calendar-suite.ts'

calendarSuite(t, backends.find((b) => b.name === 'pglite')!)
