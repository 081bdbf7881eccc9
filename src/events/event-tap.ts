import { Injectable } from '@nestjs/common';
import type { CorrelationId } from '../../libs/client/src';

/** One event the daemon handled: an external request, or an event raised inside the daemon. */
export interface EventRecord {
  event_id: string;
  /** The event that caused this one (absent for a client's request). */
  parent_id?: string;
  event_name: string;
  data: unknown;
  timestamp: number;
  correlation_id: CorrelationId;
  /** The connection that sent it; absent for internal events. */
  client_id?: string;
  agent_id?: string;
  source: 'external' | 'internal';
  /** For external requests: `ok`, or the request-level error code. */
  outcome?: string;
  duration_ms?: number;
}

export type EventObserver = (record: EventRecord) => void;

/**
 * Where the dispatcher and the event bus report what they handled, for observers such as the
 * monitor. Costs one boolean test per event while nobody observes.
 */
@Injectable()
export class EventTap {
  private readonly observers = new Set<EventObserver>();

  get active(): boolean {
    return this.observers.size > 0;
  }

  observe(observer: EventObserver): () => void {
    this.observers.add(observer);
    return () => this.observers.delete(observer);
  }

  record(record: EventRecord): void {
    for (const observer of this.observers) observer(record);
  }
}
