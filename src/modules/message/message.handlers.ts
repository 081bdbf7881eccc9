import { Injectable } from '@nestjs/common';
import {
  messageAgentParams,
  messagePublishParams,
  messageSubscribeParams,
  messageSubscriptionsParams,
  messageUnsubscribeParams,
  noMessageParams,
  type z,
} from '../../../libs/client/src';
import type { EventContext } from '../../events/event-context';
import { EventError } from '../../events/event-error';
import { Handles } from '../../events/handles.decorator';
import { MessageBusService } from './message-bus.service';

@Injectable()
export class MessageHandlers {
  constructor(private readonly messages: MessageBusService) {}

  @Handles('message:subscribe', {
    summary: 'Receive messages of these types (pushed as message:delivered); stored direct messages arrive first',
    params: messageSubscribeParams,
    agentParams: { agent_id: 'self' },
  })
  async subscribe({ event_types, agent_id }: z.output<typeof messageSubscribeParams>, context: EventContext) {
    const { subscriber, delivered } = await this.messages.subscribe(event_types, context, agent_id);
    return { status: 'subscribed', subscriber, event_types, delivered_offline: delivered };
  }

  @Handles('message:unsubscribe', { summary: 'Stop receiving some or all types', params: messageUnsubscribeParams, agentParams: { agent_id: 'self' } })
  unsubscribe({ event_types, agent_id }: z.output<typeof messageUnsubscribeParams>, context: EventContext) {
    const id = agent_id ?? context.agentId ?? context.connection?.id;
    if (!id) throw new EventError('invalid_params', 'agent_id is required');
    return { status: 'unsubscribed', subscriber: id, event_types: this.messages.unsubscribe(id, event_types) };
  }

  @Handles('message:publish', {
    summary: 'Publish: DIRECT_MESSAGE to one (stored if offline), BROADCAST to all but the sender, TASK_ASSIGNMENT to a capable agent',
    params: messagePublishParams,
    agentParams: { agent_id: 'self' },
  })
  publish({ event_type, message, to, agent_id }: z.output<typeof messagePublishParams>, context: EventContext) {
    const from = context.agentId ?? agent_id ?? 'operator';
    const recipient = to ?? (typeof message.to === 'string' ? message.to : undefined);
    return this.messages.publish(event_type, message, from, recipient, context);
  }

  @Handles('message:subscriptions', { summary: 'Who receives which types (an agent: its own)', params: messageSubscriptionsParams, agentParams: { agent_id: 'self' } })
  subscriptions({ agent_id }: z.output<typeof messageSubscriptionsParams>, context: EventContext) {
    return { subscriptions: this.messages.subscriptions(agent_id ?? context.agentId) };
  }

  @Handles('message:connect', { summary: 'A managed agent is running: deliver its stored messages', params: messageAgentParams, agentParams: { agent_id: 'child' } })
  async connect({ agent_id }: z.output<typeof messageAgentParams>) {
    return { status: 'connected', agent_id, delivered_offline: await this.messages.connect(agent_id) };
  }

  @Handles('message:disconnect', { summary: 'A managed agent stopped: store its direct messages until it is back', params: messageAgentParams, agentParams: { agent_id: 'child' } })
  disconnect({ agent_id }: z.output<typeof messageAgentParams>) {
    this.messages.disconnect(agent_id);
    return { status: 'disconnected', agent_id };
  }

  @Handles('checkpoint:collect', { summary: 'Subscriptions and stored messages, for the checkpoint', params: noMessageParams, internal: true })
  collect() {
    const { subscriptions, offline_queues } = this.messages.stats() as { subscriptions: unknown; offline_queues: unknown };
    return { module: 'message', subscriptions, offline_queues };
  }

  @Handles('message_bus:stats', { summary: 'Connected agents, subscriptions, stored messages per recipient, history size', params: noMessageParams })
  stats() {
    return { stats: this.messages.stats() };
  }
}
