// The result of deciding a command: events to append, or a refusal (which may itself be recorded).
import type { NewEvent } from './events.ts'
import type { Rejection } from './rejection.ts'

export type Decision<R = unknown> =
  | { ok: true; events: NewEvent[]; result: R }
  | { ok: false; rejection: Rejection; record: NewEvent[] }

export function accept<R>(events: NewEvent[], result: R): Decision<R> {
  return { ok: true, events, result }
}

export function refuse(rejection: Rejection, record: NewEvent[] = []): Decision<never> {
  return { ok: false, rejection, record }
}
