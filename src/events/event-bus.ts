import { Injectable } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import {
  isErrorResult,
  isNotification,
  type AnsweredDefinition,
  type ErrorResult,
  type HandlerResult,
  type NotifiedDefinition,
  type ParamsIn,
  type PayloadOf,
} from '../../libs/client/src';
import { ContractCheck } from './contract-check';
import { correlationStorage, newEventId } from './correlation';
import { Dispatcher } from './dispatcher';
import { EventCatalogue } from './event-catalogue';
import { internalContext, type EventContext } from './event-context';
import { EventError } from './event-error';
import { EventTap } from './event-tap';

/** How modules talk to each other: events, never imports of another module's services. */
@Injectable()
export class EventBus {
  constructor(
    private readonly emitter: EventEmitter2,
    private readonly tap: EventTap,
    private readonly catalogue: EventCatalogue,
    private readonly dispatcher: Dispatcher,
    private readonly contract: ContractCheck,
  ) {}

  /** Raises a request inside the daemon and resolves with every handler's non-null result (error results included). */
  async request<D extends AnsweredDefinition>(definition: D, data: ParamsIn<D>, parent?: EventContext): Promise<(HandlerResult<D> | ErrorResult)[]> {
    if (isNotification(definition)) throw new Error(`${definition.name} is a notification; raise it with emit, not request`);
    const handlers = this.catalogue.handlersOf(definition.name);
    if (!handlers) return [];
    const outcome = await this.dispatcher.execute(handlers, data, internalContext(definition.name, parent));
    return ('failure' in outcome ? [outcome.failure] : outcome.results) as (HandlerResult<D> | ErrorResult)[];
  }

  /** Like request, for events with one answering handler; an error result rejects as EventError. */
  async requestOne<D extends AnsweredDefinition>(definition: D, data: ParamsIn<D>, parent?: EventContext): Promise<HandlerResult<D>> {
    const [result] = await this.request(definition, data, parent);
    if (result === undefined) throw new EventError('no_handler', `Nothing answered ${definition.name}`);
    if (isErrorResult(result)) throw new EventError(String(result.code ?? 'error'), result.error, result);
    return result;
  }

  /** Notifies the listeners of a notification or a push (`@Listens`); nobody waits for them. */
  emit<D extends NotifiedDefinition>(definition: D, payload: PayloadOf<D>, parent?: EventContext): void {
    const event = definition.name;
    if (!isNotification(definition)) throw new Error(`${event} is answered by handlers; raise it with request, not emit`);
    if (this.contract.enabled) this.contract.check(`${event} as raised`, definition.kind === 'push' ? definition.payload : definition.params, payload);
    const cause = correlationStorage.getStore();
    const scope = { correlationId: cause?.correlationId ?? parent?.correlationId ?? null, eventId: newEventId() };
    if (this.tap.active) {
      this.tap.record({
        event_id: scope.eventId,
        parent_id: cause?.eventId,
        event_name: event,
        data: payload,
        timestamp: Date.now() / 1000,
        correlation_id: scope.correlationId,
        agent_id: parent?.agentId,
        source: 'internal',
      });
    }
    correlationStorage.run(scope, () => this.emitter.emitAsync(event, payload, internalContext(event, parent)));
  }
}
