import { safeId, z } from './schema';

export const mcpAgentConfigParams = z.object({ agent_id: safeId('The agent the config is for') });
export const mcpClearParams = z.object({ agent_id: safeId('Only this agent\'s sessions').optional() });
export const mcpNoParams = z.object({});

/** The tool name an MCP client sees for a KSI event: ksi_<namespace>_<name>. */
export const mcpToolName = (event: string) => `ksi_${event.replace(/[^A-Za-z0-9]+/g, '_')}`;

export interface McpEvents {
  'mcp:agent_config': { params: z.input<typeof mcpAgentConfigParams>; result: { agent_id: string; path: string } };
  'mcp:status': { params: z.input<typeof mcpNoParams>; result: { running: boolean; sessions: { agent_id: string; client_id: string; since: number }[] } };
  'mcp:clear_sessions': { params: z.input<typeof mcpClearParams>; result: { cleared: number; agent_id: string } };
}

/** Every mcp event's definition. */
export const mcpEvents = [] as const;
