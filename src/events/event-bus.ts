import { Injectable } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { isErrorResult } from '../../libs/client/src';
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
    this.observe(event, data, parent);
    const results = (await this.emitter.emitAsync(event, data, internalContext(event, parent))) || [];
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
    this.observe(event, data, parent);
    this.emitter.emitAsync(event, data, internalContext(event, parent));
  }

  private observe(event: string, data: Record<string, unknown>, parent?: EventContext): void {
    if (!this.tap.active) return;
    this.tap.record({ event_name: event, data, timestamp: Date.now() / 1000, correlation_id: parent?.correlationId ?? null, agent_id: parent?.agentId, source: 'internal' });
  }
}
