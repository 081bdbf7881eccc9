import { Injectable } from '@nestjs/common';
import type { recordedEvent, z } from '../../libs/client/src';

/** One event the daemon handled (a client's request, or an event raised inside it): what monitor:event pushes, before redaction. */
export type EventRecord = z.output<typeof recordedEvent>;

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
