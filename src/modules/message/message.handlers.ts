import { Injectable } from '@nestjs/common';
import {
  checkpointCollect,
  messageBusStats,
  messageConnect,
  messageDisconnect,
  messagePublish,
  messageSubscribe,
  messageSubscriptions,
  messageUnsubscribe,
  type HandlerResult,
  type ParamsOut,
} from '../../../libs/client/src';
import type { EventContext } from '../../events/event-context';
import { EventError } from '../../events/event-error';
import { Handles, type AccessRules } from '../../events/handles.decorator';
import { MessageBusService } from './message-bus.service';

/** A connection identified as an agent subscribes, publishes and asks only as itself. */
const asItself: AccessRules = { agentParams: { agent_id: 'self' } };
/** Only the operator, or an agent for the agents it spawned, says a managed agent came or went. */
const forItsChild: AccessRules = { agentParams: { agent_id: 'child' } };

@Injectable()
export class MessageHandlers {
  constructor(private readonly messages: MessageBusService) {}

  @Handles(messageSubscribe, asItself)
  async subscribe({ event_types, agent_id }: ParamsOut<typeof messageSubscribe>, context: EventContext): Promise<HandlerResult<typeof messageSubscribe>> {
    const { subscriber, delivered } = await this.messages.subscribe(event_types, context, agent_id);
    return { status: 'subscribed', subscriber, event_types, delivered_offline: delivered };
  }

  @Handles(messageUnsubscribe, asItself)
  unsubscribe({ event_types, agent_id }: ParamsOut<typeof messageUnsubscribe>, context: EventContext): HandlerResult<typeof messageUnsubscribe> {
    const id = agent_id ?? context.agentId ?? context.connection?.id;
    if (!id) throw new EventError('invalid_params', 'agent_id is required');
    return { status: 'unsubscribed', subscriber: id, event_types: this.messages.unsubscribe(id, event_types) };
  }

  @Handles(messagePublish, { agentParams: { agent_id: 'self', to: 'recipient', 'message.to': 'recipient' } })
  publish({ event_type, message, to, agent_id }: ParamsOut<typeof messagePublish>, context: EventContext): Promise<HandlerResult<typeof messagePublish>> {
    const from = context.agentId ?? agent_id ?? 'operator';
    const recipient = to ?? (typeof message.to === 'string' ? message.to : undefined);
    return this.messages.publish(event_type, message, from, recipient, context);
  }

  @Handles(messageSubscriptions, asItself)
  subscriptions({ agent_id }: ParamsOut<typeof messageSubscriptions>, context: EventContext): HandlerResult<typeof messageSubscriptions> {
    return { subscriptions: this.messages.subscriptions(agent_id ?? context.agentId) };
  }

  @Handles(messageConnect, forItsChild)
  async connect({ agent_id }: ParamsOut<typeof messageConnect>): Promise<HandlerResult<typeof messageConnect>> {
    return { status: 'connected', agent_id, delivered_offline: await this.messages.connect(agent_id) };
  }

  @Handles(messageDisconnect, forItsChild)
  disconnect({ agent_id }: ParamsOut<typeof messageDisconnect>): HandlerResult<typeof messageDisconnect> {
    this.messages.disconnect(agent_id);
    return { status: 'disconnected', agent_id };
  }

  /** Subscriptions and stored messages, for the checkpoint. */
  @Handles(checkpointCollect)
  async collect(): Promise<HandlerResult<typeof checkpointCollect>> {
    const { subscriptions, offline_queues } = await this.messages.stats();
    return { module: 'message', subscriptions, offline_queues };
  }

  @Handles(messageBusStats)
  async stats(): Promise<HandlerResult<typeof messageBusStats>> {
    return { stats: await this.messages.stats() };
  }
}
