import { defineRequest } from './definition';
import { safeId, z } from './schema';

export const mcpAgentConfigParams = z.object({ agent_id: safeId('The agent the config is for') });
export const mcpClearParams = z.object({ agent_id: safeId('Only this agent\'s sessions').optional() });
export const mcpNoParams = z.object({});

/** The tool name an MCP client sees for a KSI event: ksi_<namespace>_<name>. */
export const mcpToolName = (event: string) => `ksi_${event.replace(/[^A-Za-z0-9]+/g, '_')}`;

export const mcpStatusResult = z.object({
  running: z.boolean().describe('Whether any bridge is connected'),
  sessions: z.array(z.object({ agent_id: z.string(), client_id: z.string().describe("The bridge's connection"), since: z.number().describe('Epoch seconds') })),
});
export type McpStatus = z.output<typeof mcpStatusResult>;

export const mcpAgentConfig = defineRequest('mcp:agent_config', {
  summary: "Write an agent's --mcp-config (issues it a new token) and return its path",
  params: mcpAgentConfigParams,
  result: z.object({ agent_id: z.string(), path: z.string().describe('The config file (mode 0600)') }),
});
export const mcpSessionStart = defineRequest('mcp:session_start', {
  summary: 'Sent by `ksi mcp` once identified: this connection is an MCP bridge',
  params: mcpNoParams,
  result: z.object({ status: z.literal('started'), agent_id: z.string() }),
});
export const mcpStatus = defineRequest('mcp:status', { summary: 'MCP bridges connected to the daemon', params: mcpNoParams, result: mcpStatusResult });
export const mcpClearSessions = defineRequest('mcp:clear_sessions', {
  summary: "Disconnect MCP bridges (all, or one agent's; an agent: its own)",
  params: mcpClearParams,
  result: z.object({ cleared: z.number().describe('Bridges disconnected'), agent_id: z.string().describe('The agent whose bridges went, or "all"') }),
});

/** Every mcp event's definition. */
export const mcpEvents = [mcpAgentConfig, mcpSessionStart, mcpStatus, mcpClearSessions] as const;
