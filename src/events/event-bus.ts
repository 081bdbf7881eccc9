import { Injectable } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { isErrorResult } from '../../libs/client/src';
import { correlationStorage, newEventId, type CorrelationScope } from './correlation';
import { internalContext, type EventContext } from './event-context';
import { EventError } from './event-error';
import { EventTap } from './event-tap';

/** How modules talk to each other: events, never imports of another module's services. */
@Injectable()
export class EventBus {
  constructor(
    private readonly emitter: EventEmitter2,
    private readonly tap: EventTap,
  ) {}

  /** Raises an event inside the daemon and resolves with every listener's non-null result. */
  async request(event: string, data: Record<string, unknown>, parent?: EventContext): Promise<unknown[]> {
    const scope = this.observe(event, data, parent);
    const results = (await correlationStorage.run(scope, () => this.emitter.emitAsync(event, data, internalContext(event, parent)))) || [];
    return results.filter((result) => result !== undefined && result !== null);
  }

  /** Like request, for events with one answering handler; an error result rejects as EventError. */
  async requestOne<T>(event: string, data: Record<string, unknown>, parent?: EventContext): Promise<T> {
    const [result] = await this.request(event, data, parent);
    if (result === undefined) throw new EventError('no_handler', `Nothing answered ${event}`);
    if (isErrorResult(result)) throw new EventError(String(result.code ?? 'error'), result.error, result);
    return result as T;
  }

  /** Fire and forget: listeners run, nobody waits for them. */
  emit(event: string, data: Record<string, unknown>, parent?: EventContext): void {
    const scope = this.observe(event, data, parent);
    correlationStorage.run(scope, () => this.emitter.emitAsync(event, data, internalContext(event, parent)));
  }

  /** The new event is a child of the one being handled (carried by AsyncLocalStorage). */
  private observe(event: string, data: Record<string, unknown>, parent?: EventContext): CorrelationScope {
    const cause = correlationStorage.getStore();
    const scope = { correlationId: cause?.correlationId ?? parent?.correlationId ?? null, eventId: newEventId() };
    if (this.tap.active) {
      this.tap.record({
        event_id: scope.eventId,
        parent_id: cause?.eventId,
        event_name: event,
        data,
        timestamp: Date.now() / 1000,
        correlation_id: scope.correlationId,
        agent_id: parent?.agentId,
        source: 'internal',
      });
    }
    return scope;
  }
}
