import { z } from './schema';

export const monitorSubscribeParams = z
  .object({
    patterns: z.array(z.string().min(1)).optional().describe('Globs over event names, e.g. ["completion:*"]; default all'),
    event_patterns: z.array(z.string().min(1)).optional().describe('Alias of patterns'),
  })
  .transform(({ patterns, event_patterns }) => ({ patterns: patterns ?? event_patterns ?? ['**'] }));
export const monitorUnsubscribeParams = z.object({});

export interface MonitorSubscribeResult {
  status: 'subscribed';
  patterns: string[];
  client_id: string;
}
export interface MonitorUnsubscribeResult {
  status: 'unsubscribed';
  client_id: string;
  was_subscribed: boolean;
}

export interface MonitorEvents {
  'monitor:subscribe': { params: z.input<typeof monitorSubscribeParams>; result: MonitorSubscribeResult };
  'monitor:unsubscribe': { params: z.input<typeof monitorUnsubscribeParams>; result: MonitorUnsubscribeResult };
}
