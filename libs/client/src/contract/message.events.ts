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

/** A message as subscribers receive it (pushed as message:delivered). */
export interface BusMessage {
  id: string;
  type: string;
  from: string;
  to?: string;
  timestamp: number;
  [field: string]: unknown;
}

export interface MessageEvents {
  'message:subscribe': { params: z.input<typeof messageSubscribeParams>; result: { status: 'subscribed'; subscriber: string; event_types: string[]; delivered_offline: number } };
  'message:publish': { params: z.input<typeof messagePublishParams>; result: { status: string; id: string; delivered: string[]; queued: string[] } };
}

/** Every message event's definition. */
export const messageEvents = [] as const;
