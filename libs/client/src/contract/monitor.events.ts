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

const when = z.union([z.number(), z.string()]).optional().describe('Epoch seconds or an ISO date');
export const getEventsParams = z.object({
  patterns: z.array(z.string()).optional().describe('Globs over event names'),
  event_patterns: z.array(z.string()).optional().describe('Alias of patterns'),
  since: when,
  until: when,
  client_id: z.string().optional(),
  session_id: z.string().optional(),
  correlation_id: z.string().optional(),
  limit: z.number().int().min(1).max(10_000).default(100),
  reverse: z.boolean().default(true).describe('Newest first'),
});
export const sessionEventsParams = z.object({ session_id: z.string().min(1), limit: z.number().int().min(1).default(1000) });
export const correlationParams = z.object({ correlation_id: z.union([z.string(), z.number(), z.boolean()]).transform(String) });
export const cleanupParams = z.object({ max_age_hours: z.number().positive().default(24) });
export const noMonitorParams = z.object({});

/** An event as the log keeps it. */
export interface LoggedEvent {
  event_id: string;
  parent_id: string | null;
  correlation_id: string | null;
  event_name: string;
  timestamp: number;
  client_id: string | null;
  agent_id: string | null;
  session_id: string | null;
  source: 'external' | 'internal';
  outcome: string | null;
  duration_ms: number | null;
  data: unknown;
}

/** Every monitor event's definition. */
export const monitorEvents = [] as const;
