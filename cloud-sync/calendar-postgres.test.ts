// Central OEE with shift calendars on a fresh database of the machine's PostgreSQL server.
import t from 'tap'
import { backends } from './test/backends.ts'
import { calendarSuite } from './test/calendar-suite.ts'

calendarSuite(t, backends.find((b) => b.name === 'postgres')!)
