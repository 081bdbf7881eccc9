import { definePush, defineRequest } from './definition';
import { jsonObject, nonEmpty, z } from './schema';

export const messageSubscribeParams = z.object({
  event_types: z.array(nonEmpty('A message type')).min(1).describe('Message types to receive, e.g. ["DIRECT_MESSAGE", "BROADCAST"]'),
  agent_id: z.string().optional().describe('Receive as this agent (direct messages to it); default: this connection'),
});
export const messageUnsubscribeParams = z.object({ event_types: z.array(z.string()).optional().describe('Default: all'), agent_id: z.string().optional() });
export const messagePublishParams = z.object({
  event_type: nonEmpty('The message type'),
  message: jsonObject().default({}).describe('The message body; DIRECT_MESSAGE needs to (or give to beside it)'),
  to: z.string().optional(),
  agent_id: z.string().optional().describe('The sender (default: the identified agent, else "operator")'),
});
export const messageAgentParams = z.object({ agent_id: nonEmpty('The agent') });
export const messageSubscriptionsParams = z.object({ agent_id: z.string().optional() });
export const noMessageParams = z.object({});

/** A message as subscribers receive it: the published body's fields beside these. */
export const busMessage = z.looseObject({
  id: z.string(),
  type: z.string().describe('The message type, e.g. DIRECT_MESSAGE'),
  from: z.string().describe('The sender: an agent id, or "operator"'),
  to: z.string().optional().describe('The recipient of a direct message or a task'),
  timestamp: z.number().describe('Epoch seconds'),
});
export type BusMessage = z.output<typeof busMessage>;

const ids = z.array(z.string());

export const publishOutcome = z.object({
  status: z.enum(['delivered', 'queued', 'broadcast', 'published']),
  id: z.string().describe("The message's id"),
  delivered: ids.describe('Who received it now'),
  queued: ids.describe('Recipients not reached on this node: it waits in their inbox, and a node they are connected to takes it at once'),
});
export type PublishOutcome = z.output<typeof publishOutcome>;

export const busStats = z.object({
  connected_agents: ids.describe('Managed agents running (message:connect)'),
  subscriptions: z.record(z.string(), ids).describe('Subscribers of each message type'),
  offline_queues: z.record(z.string(), z.number()).describe('Messages stored for each offline recipient'),
  history_size: z.number().describe('Messages kept, delivered or not'),
});
export type MessageBusStats = z.output<typeof busStats>;

export const messageSubscribe = defineRequest('message:subscribe', {
  summary: 'Receive messages of these types (pushed as message:delivered); stored direct messages arrive first',
  params: messageSubscribeParams,
  result: z.object({
    status: z.literal('subscribed'),
    subscriber: z.string().describe('The agent, or this connection'),
    event_types: z.array(z.string()),
    delivered_offline: z.number().describe('Stored messages delivered now'),
  }),
});
export const messageUnsubscribe = defineRequest('message:unsubscribe', {
  summary: 'Stop receiving some or all types',
  params: messageUnsubscribeParams,
  result: z.object({ status: z.literal('unsubscribed'), subscriber: z.string(), event_types: z.array(z.string()).describe('The types removed') }),
});
export const messagePublish = defineRequest('message:publish', {
  summary: 'Publish: DIRECT_MESSAGE to one (stored if offline), BROADCAST to all but the sender, TASK_ASSIGNMENT to a capable agent',
  params: messagePublishParams,
  result: publishOutcome,
});
export const messageSubscriptions = defineRequest('message:subscriptions', {
  summary: 'Who receives which types (an agent: its own)',
  params: messageSubscriptionsParams,
  result: z.object({ subscriptions: z.record(z.string(), ids).describe('Message types of each subscriber') }),
});
export const messageConnect = defineRequest('message:connect', {
  summary: 'A managed agent is running: deliver its stored messages',
  params: messageAgentParams,
  result: z.object({ status: z.literal('connected'), agent_id: z.string(), delivered_offline: z.number().describe('Stored messages delivered now') }),
});
export const messageDisconnect = defineRequest('message:disconnect', {
  summary: 'A managed agent stopped: store its direct messages until it is back',
  params: messageAgentParams,
  result: z.object({ status: z.literal('disconnected'), agent_id: z.string() }),
});
export const messageBusStats = defineRequest('message_bus:stats', {
  summary: 'Connected agents, subscriptions, stored messages per recipient, history size',
  params: noMessageParams,
  result: z.object({ stats: busStats }),
});
export const messageDelivered = definePush('message:delivered', { summary: 'A message for a subscribed connection', payload: busMessage });

/** Every message event's definition. */
export const messageEvents = [
  messageSubscribe,
  messageUnsubscribe,
  messagePublish,
  messageSubscriptions,
  messageConnect,
  messageDisconnect,
  messageBusStats,
  messageDelivered,
] as const;
