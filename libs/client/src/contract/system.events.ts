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
});
export const helpParams = z.object({ event: nonEmpty('The event to describe'), format_style: formatStyle });
export const moduleInspectParams = z.object({ module_name: nonEmpty('A module name from module:list') });

export interface HealthResult {
  /** unhealthy: the database cannot be read or written (damaged file, full disk); degraded: the Claude CLI is missing. */
  status: 'healthy' | 'degraded' | 'unhealthy';
  version: string;
  pid: number;
  uptime: number;
  started_at: number;
  socket: string;
  modules: string[];
  modules_loaded: number;
  events_registered: number;
  connections: number;
  /** `sqlite_code` names the fault (SQLITE_FULL, SQLITE_CORRUPT, ...); `since` is when a write first hit it. */
  database: { status: 'ok' | 'error'; path: string; error?: string; sqlite_code?: string; since?: number };
  /** The Claude CLI completions and agents run (CLAUDE_BIN, resolved at start). */
  claude_cli: { path: string; status: 'ok' | 'missing' | 'not_executable' };
  memory: { rss_mb: number; heap_used_mb: number };
  /** How the previous run ended: clean, timeout (with the services that did not acknowledge), crash, or first_start. */
  last_shutdown: { kind: 'clean' | 'timeout' | 'crash' | 'first_start'; [detail: string]: unknown };
  /** What the restore at this start did, if a checkpoint was there. */
  restored: unknown;
  critical_services: string[];
}

export interface EventDescription {
  module: string;
  handler: string;
  summary: string;
  parameters?: Record<string, unknown>;
}
export interface CompactEventDescription {
  m: string;
  h: string;
  s: string;
  p?: [name: string, type: string, required: boolean, defaultValue: unknown, description: string][];
}
export interface McpToolDescription {
  name: string;
  description: string;
  inputSchema: Record<string, unknown>;
}

export interface DiscoverResult {
  events: Record<string, EventDescription | CompactEventDescription | McpToolDescription>;
  total: number;
  namespaces: string[];
}
export type HelpResult = (EventDescription & { event: string; examples: { command: string }[] }) | McpToolDescription;

export interface ModuleListResult {
  modules: { name: string; handlers: number; events: string[] }[];
  count: number;
}
export interface ModuleEventsResult {
  events: Record<string, { module: string; handler: string }[]>;
  total_events: number;
}
export interface ModuleInspectResult {
  module: { name: string; handlers: { event: string; handler: string; summary: string }[]; stats: { handler_count: number } };
}

export interface SystemEvents {
  'system:health': { params: z.input<typeof emptyParams>; result: HealthResult };
  'system:discover': { params: z.input<typeof discoverParams>; result: DiscoverResult };
  'system:help': { params: z.input<typeof helpParams>; result: HelpResult };
  'module:list': { params: z.input<typeof emptyParams>; result: ModuleListResult };
  'module:events': { params: z.input<typeof emptyParams>; result: ModuleEventsResult };
  'module:inspect': { params: z.input<typeof moduleInspectParams>; result: ModuleInspectResult };
}

/** Every system event's definition. */
export const systemEvents = [] as const;
