import { clusterNode } from './cluster.events';
import { defineRequest } from './definition';
import { usageWindow } from './completion.events';
import { lastShutdown, restoreSummary } from './lifecycle.events';
import { nonEmpty, z } from './schema';

export const formatStyle = z
  .enum(['verbose', 'compact', 'mcp'])
  .default('verbose')
  .describe('verbose (default), compact, or mcp ({name, description, inputSchema})');

export const emptyParams = z.object({});
export const discoverParams = z.object({
  namespace: z.string().optional().describe('Only events of this namespace (the part before the first ":")'),
  event: z.string().optional().describe('Glob over event names, e.g. "state:*"'),
  format_style: formatStyle,
  detail: z.boolean().default(true).describe('Include parameter schemas'),
  include_results: z
    .boolean()
    .default(false)
    .describe("With detail, also each event's result schema and each pushed event's payload schema; off by default, as they would triple the reply past the 64 KiB line limit of the Python client"),
});
export const helpParams = z.object({ event: nonEmpty('The event to describe'), format_style: formatStyle });
export const moduleInspectParams = z.object({ module_name: nonEmpty('A module name from module:list') });

export const healthResult = z.object({
  status: z.enum(['healthy', 'degraded', 'unhealthy']).describe('unhealthy: the database cannot be read or written (damaged file, full disk); degraded: the Claude CLI is missing'),
  version: z.string(),
  pid: z.number(),
  uptime: z.number().describe('Seconds since the process started'),
  started_at: z.number().describe('Epoch seconds'),
  socket: z.string(),
  modules: z.array(z.string()),
  modules_loaded: z.number(),
  events_registered: z.number().describe('Events a client may send'),
  connections: z.number(),
  database: z.object({
    status: z.enum(['ok', 'error']),
    path: z.string(),
    error: z.string().optional(),
    sqlite_code: z.string().optional().describe('The fault: SQLITE_FULL, SQLITE_CORRUPT, ...'),
    since: z.number().optional().describe('Epoch seconds when a write first hit the fault'),
  }),
  claude_cli: z
    .object({ path: z.string(), status: z.enum(['ok', 'missing', 'not_executable']) })
    .describe('The Claude CLI completions and agents run (CLAUDE_BIN, resolved at start)'),
  memory: z.object({ rss_mb: z.number(), heap_used_mb: z.number() }),
  last_shutdown: lastShutdown,
  restored: restoreSummary.nullable().describe('What the restore at this start did; null when no checkpoint was waiting, or while the restore still runs (it starts once the daemon answers)'),
  critical_services: z.array(z.string()).describe('The services the shutdown barrier waits for'),
  usage_windows: z.array(usageWindow).describe('Accounts whose usage limit was reached: their requests are parked until the reset'),
  cluster: z
    .object({
      node_id: z.string().describe('This node'),
      alive: z.number(),
      suspect: z.number(),
      dead: z.number(),
      nodes: z.array(clusterNode.pick({ node_id: true, status: true, running: true })),
    })
    .describe('The daemons sharing this database (one on SQLite); cluster:nodes gives more'),
});
export type HealthResult = z.output<typeof healthResult>;

const jsonSchema = z.record(z.string(), z.unknown());
/** A field of a compact entry: [name, type, required, default, description]. */
const compactField = z.tuple([z.string(), z.string(), z.boolean(), z.unknown(), z.string()]).describe('[name, type, required, default, description]');

export const eventDescription = z.object({
  kind: z.literal('request'),
  module: z.string(),
  handler: z.string().describe('Class and method, e.g. StateHandlers.get'),
  summary: z.string(),
  parameters: jsonSchema.optional().describe("JSON Schema of the event's data (with detail)"),
  result: jsonSchema.optional().describe("JSON Schema of one handler's result (with detail and include_results)"),
});
export type EventDescription = z.output<typeof eventDescription>;
export const compactEventDescription = z.object({
  k: z.literal('request'),
  m: z.string(),
  h: z.string(),
  s: z.string(),
  p: z.array(compactField).optional().describe('Parameters (with detail)'),
  r: z.array(compactField).optional().describe("The result's fields (with detail and include_results)"),
});
export type CompactEventDescription = z.output<typeof compactEventDescription>;
export const mcpToolDescription = z.object({ name: z.string(), description: z.string(), inputSchema: jsonSchema });
export type McpToolDescription = z.output<typeof mcpToolDescription>;

export const pushDescription = z.object({
  kind: z.literal('push'),
  summary: z.string(),
  payload: jsonSchema.optional().describe("JSON Schema of the pushed line's data (with detail and include_results)"),
});
export type PushDescription = z.output<typeof pushDescription>;
export const compactPushDescription = z.object({ k: z.literal('push'), s: z.string(), d: z.array(compactField).optional().describe("The pushed line's data fields (with detail and include_results)") });
export type CompactPushDescription = z.output<typeof compactPushDescription>;

export const discoverResult = z.object({
  events: z.record(z.string(), z.union([eventDescription, compactEventDescription, mcpToolDescription])).describe('Events a client may send'),
  pushes: z
    .record(z.string(), z.union([pushDescription, compactPushDescription]))
    .optional()
    .describe('Events the daemon pushes to connections, never sent by a client (absent with format_style mcp)'),
  total: z.number().describe('Number of events'),
  namespaces: z.array(z.string()).describe('Namespaces of the events'),
});
export type DiscoverResult = z.output<typeof discoverResult>;

export const helpResult = z.union([
  eventDescription.extend({ event: z.string(), examples: z.array(z.object({ command: z.string() })) }),
  pushDescription.extend({ event: z.string(), example: z.string().describe('A pushed line of this event, with placeholder values') }),
  mcpToolDescription,
]);
export type HelpResult = z.output<typeof helpResult>;

export const moduleListResult = z.object({
  modules: z.array(z.object({ name: z.string(), handlers: z.number(), events: z.array(z.string()) })),
  count: z.number(),
});
export const moduleEventsResult = z.object({
  events: z.record(z.string(), z.array(z.object({ module: z.string(), handler: z.string() }))),
  total_events: z.number(),
});
export const moduleInspectResult = z.object({
  module: z.object({
    name: z.string(),
    handlers: z.array(z.object({ event: z.string(), handler: z.string(), summary: z.string() })),
    stats: z.object({ handler_count: z.number() }),
  }),
});

export const systemHealth = defineRequest('system:health', {
  summary: 'Daemon status: version, pid, uptime, modules, events, database, memory',
  params: emptyParams,
  result: healthResult,
});
export const systemDiscover = defineRequest('system:discover', {
  summary: 'Every event with its module, summary and the JSON Schema of its parameters (its result with include_results); the events the daemon pushes',
  params: discoverParams,
  result: discoverResult,
});
export const systemHelp = defineRequest('system:help', {
  summary: "One event's description, parameters, result and example commands (a pushed event: its payload and an example line)",
  params: helpParams,
  result: helpResult,
});
export const moduleList = defineRequest('module:list', { summary: 'The daemon modules and the events each handles', params: emptyParams, result: moduleListResult });
export const moduleEvents = defineRequest('module:events', { summary: 'Every event with the handlers that answer it', params: emptyParams, result: moduleEventsResult });
export const moduleInspect = defineRequest('module:inspect', { summary: "One module's handlers", params: moduleInspectParams, result: moduleInspectResult });

export const systemEvents = [systemHealth, systemDiscover, systemHelp, moduleList, moduleEvents, moduleInspect] as const;
