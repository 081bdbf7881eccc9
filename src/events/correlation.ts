import { AsyncLocalStorage } from 'node:async_hooks';
import type { CorrelationId } from '../../libs/client/src';

/** The event being handled right now: everything it causes becomes its child. */
export interface CorrelationScope {
  correlationId: CorrelationId;
  eventId: string;
}

export const correlationStorage = new AsyncLocalStorage<CorrelationScope>();

let nextEvent = 0;
const prefix = process.pid.toString(36);

/** A short id, unique in this daemon's life and across restarts (pid prefix). */
export function newEventId(): string {
  return `${prefix}-${(++nextEvent).toString(36)}`;
}
