import { definePush, defineRequest } from './definition';
import { z } from './schema';

export const monitorSubscribeParams = z
  .object({
    patterns: z.array(z.string().min(1)).optional().describe('Globs over event names, e.g. ["completion:*"]; default all'),
    event_patterns: z.array(z.string().min(1)).optional().describe('Alias of patterns'),
  })
  .transform(({ patterns, event_patterns }) => ({ patterns: patterns ?? event_patterns ?? ['**'] }));
export const monitorUnsubscribeParams = z.object({});

/** A correlation id as a client gave it: any JSON scalar. */
const scalarId = z.union([z.string(), z.number(), z.boolean()]);
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
export type EventFilters = z.output<typeof getEventsParams>;
export const sessionEventsParams = z.object({ session_id: z.string().min(1), limit: z.number().int().min(1).default(1000) });
export const correlationParams = z.object({ correlation_id: scalarId.transform(String) });
export const cleanupParams = z.object({ max_age_hours: z.number().positive().default(24) });
export const noMonitorParams = z.object({});

const source = z.enum(['external', 'internal']).describe("external: a client's request; internal: raised inside the daemon");
const eventData = z.unknown().describe('The event data, secrets redacted (a marker with its size when too large)');
const outcomeMeaning = 'For requests: ok, or the request-level error code';

/** An event as the daemon handled it, pushed to monitor subscribers with its data redacted. */
export const recordedEvent = z.object({
  event_id: z.string(),
  parent_id: z.string().optional().describe('The event that caused this one; absent for a request'),
  event_name: z.string(),
  data: eventData,
  timestamp: z.number().describe('Epoch seconds'),
  correlation_id: scalarId.nullable(),
  client_id: z.string().optional().describe('The connection that sent it (requests only)'),
  agent_id: z.string().optional(),
  source,
  outcome: z.string().optional().describe(outcomeMeaning),
  duration_ms: z.number().optional(),
  node_id: z.string().optional().describe('The node that handled it (KSI_NODE_ID)'),
});

/** An event as the log keeps it. */
export const loggedEvent = z.object({
  event_id: z.string(),
  parent_id: z.string().nullable().describe('The event that caused this one'),
  correlation_id: z.string().nullable(),
  event_name: z.string(),
  timestamp: z.number().describe('Epoch seconds'),
  client_id: z.string().nullable().describe('The connection that sent it (requests only)'),
  agent_id: z.string().nullable(),
  session_id: z.string().nullable().describe('The session id its data named'),
  source,
  outcome: z.string().nullable().describe(outcomeMeaning),
  duration_ms: z.number().nullable(),
  node_id: z.string().nullable().describe('The node that handled it (KSI_NODE_ID) on a shared PostgreSQL database; null on SQLite (one node) and for events an older KSI logged'),
  data: eventData,
});
export type LoggedEvent = z.output<typeof loggedEvent>;

/** An event with the events it caused. */
export type TreeNode = LoggedEvent & { children: TreeNode[] };
export const treeNode: z.ZodType<TreeNode> = loggedEvent.extend({ children: z.lazy(() => z.array(treeNode)).describe('The events it caused') });

/** Present only when events were left out. */
const truncation = {
  truncated: z.literal(true).optional().describe('More events matched than one reply holds (KSI_MONITOR_REPLY_BYTES)'),
  truncated_reason: z.string().optional(),
};
const eventList = { events: z.array(loggedEvent), count: z.number(), ...truncation };

export const eventLogStats = z.object({
  enabled: z.boolean().describe('KSI_EVENT_LOG'),
  total_events: z.number().describe('Rows in the log'),
  in_memory: z.number().describe('Latest events kept in memory for these stats'),
  events_per_second: z.number().describe('Over the last minute'),
  by_namespace: z.record(z.string(), z.number()),
  error_rate: z.number().describe('Share of requests that failed'),
  latency: z.record(z.string(), z.object({ count: z.number(), p50_ms: z.number(), p99_ms: z.number() })).describe('Per event, over requests'),
  dropped_events: z.number().describe('Not recorded: the buffer was full'),
  lost_events: z.number().describe('Recorded, but the writer failed to write them'),
});
export type EventLogStats = z.output<typeof eventLogStats>;

export const correlationStatsResult = z.object({
  total_correlations: z.number(),
  total_events: z.number(),
  oldest_event: z.number().nullable().describe('Epoch seconds; null when the log is empty'),
});
export type CorrelationStats = z.output<typeof correlationStatsResult>;

export const monitorSubscribe = defineRequest('monitor:subscribe', {
  summary: 'Stream matching events to this connection as pushed monitor:event lines',
  params: monitorSubscribeParams,
  result: z.object({ status: z.literal('subscribed'), patterns: z.array(z.string()), client_id: z.string() }),
});
export const monitorUnsubscribe = defineRequest('monitor:unsubscribe', {
  summary: "Stop this connection's event stream",
  params: monitorUnsubscribeParams,
  result: z.object({ status: z.literal('unsubscribed'), client_id: z.string(), was_subscribed: z.boolean() }),
});
export const monitorGetEvents = defineRequest('monitor:get_events', {
  summary: 'Recorded events, filtered by name globs, time, client, session or correlation id',
  params: getEventsParams,
  result: z.object(eventList),
});
export const monitorGetStats = defineRequest('monitor:get_stats', {
  summary: 'Events per second, by namespace, error rate, latency per event',
  params: noMonitorParams,
  result: z.object({ event_log: eventLogStats }),
});
export const monitorClearLog = defineRequest('monitor:clear_log', {
  summary: 'Empty the event log',
  params: noMonitorParams,
  result: z.object({ status: z.literal('cleared'), events_cleared: z.number() }),
});
export const monitorGetSessionEvents = defineRequest('monitor:get_session_events', {
  summary: 'Events that carried a session id',
  params: sessionEventsParams,
  result: z.object({ session_id: z.string(), ...eventList }),
});
export const monitorGetCorrelationChain = defineRequest('monitor:get_correlation_chain', {
  summary: 'Every event of one correlation id, in order',
  params: correlationParams,
  result: z.object({ correlation_id: z.string(), ...eventList, event_types: z.array(z.string()).describe('The distinct event names') }),
});
export const correlationChain = defineRequest('correlation:chain', {
  summary: 'The events a request caused, in order',
  params: correlationParams,
  result: z.object({ correlation_id: z.string(), chain_length: z.number(), chain: z.array(loggedEvent), ...truncation }),
});
export const correlationTree = defineRequest('correlation:tree', {
  summary: 'The causal tree of a request: each event with the events it caused',
  params: correlationParams,
  result: z.object({ correlation_id: z.string(), tree: z.array(treeNode).describe('The events whose cause is not in the log, each with what it caused'), ...truncation }),
});
export const correlationTrace = defineRequest('correlation:trace', {
  summary: 'The request, its outcome and duration, and what it caused',
  params: correlationParams,
  result: z.object({
    correlation_id: z.string(),
    event_name: z.string().describe('The first event'),
    outcome: z.string().nullable().describe(outcomeMeaning),
    started_at: z.number().describe('Epoch seconds'),
    duration_ms: z.number().describe('From the first event to the last'),
    events: z.number().describe('How many events the correlation id has'),
    tree: treeNode,
    ...truncation,
  }),
});
export const correlationStats = defineRequest('correlation:stats', {
  summary: 'How many correlation ids and events the log holds',
  params: noMonitorParams,
  result: z.object({ correlation_stats: correlationStatsResult }),
});
export const correlationCleanup = defineRequest('correlation:cleanup', {
  summary: 'Remove events older than max_age_hours',
  params: cleanupParams,
  result: z.object({ cleaned_events: z.number(), max_age_hours: z.number() }),
});
export const correlationCurrent = defineRequest('correlation:current', {
  summary: "This request's own correlation id and event id",
  params: noMonitorParams,
  result: z.object({ current_correlation_id: scalarId.nullable(), event_id: z.string().nullable() }),
});
export const monitorDashboard = defineRequest('monitor:dashboard', {
  summary: "The web dashboard's address with its access token (the daemon serves it when KSI_HTTP_PORT is set)",
  params: noMonitorParams,
  result: z.object({
    enabled: z.boolean().describe('false when KSI_HTTP_PORT is unset'),
    url: z.string().nullable().describe('Open it once: it carries the token, which the page then keeps in a cookie'),
  }),
});
export const monitorEvent = definePush('monitor:event', { summary: 'An event matching a monitor:subscribe of this connection', payload: recordedEvent });

/** Every monitor event's definition. */
export const monitorEvents = [
  monitorSubscribe,
  monitorUnsubscribe,
  monitorGetEvents,
  monitorGetStats,
  monitorClearLog,
  monitorGetSessionEvents,
  monitorGetCorrelationChain,
  correlationChain,
  correlationTree,
  correlationTrace,
  correlationStats,
  correlationCleanup,
  correlationCurrent,
  monitorDashboard,
  monitorEvent,
] as const;
