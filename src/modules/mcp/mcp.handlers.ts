import { Injectable } from '@nestjs/common';
import { mcpAgentConfigParams, mcpClearParams, mcpNoParams, type z } from '../../../libs/client/src';
import type { EventContext } from '../../events/event-context';
import { EventError } from '../../events/event-error';
import { Handles } from '../../events/handles.decorator';
import { McpService } from './mcp.service';

@Injectable()
export class McpHandlers {
  constructor(private readonly mcp: McpService) {}

  @Handles('mcp:agent_config', { summary: "Write an agent's --mcp-config (issues it a new token) and return its path", params: mcpAgentConfigParams, agentParams: { agent_id: 'child' } })
  async agentConfig({ agent_id }: z.output<typeof mcpAgentConfigParams>, context: EventContext) {
    return { agent_id, path: await this.mcp.writeAgentConfig(agent_id, context) };
  }

  @Handles('mcp:session_start', { summary: 'Sent by `ksi mcp` once identified: this connection is an MCP bridge', params: mcpNoParams })
  sessionStart(_data: unknown, context: EventContext) {
    if (!context.connection || context.agentId === undefined) throw new EventError('permission_denied', 'Identify as an agent (system:identify) first');
    this.mcp.startSession(context.connection, context.agentId);
    return { status: 'started', agent_id: context.agentId };
  }

  @Handles('mcp:status', { summary: 'MCP bridges connected to the daemon', params: mcpNoParams })
  status() {
    return this.mcp.status();
  }

  @Handles('mcp:clear_sessions', { summary: 'Disconnect MCP bridges (all, or one agent\'s; an agent: its own)', params: mcpClearParams, agentParams: { agent_id: 'self' } })
  clear({ agent_id }: z.output<typeof mcpClearParams>, context: EventContext) {
    const agentId = agent_id ?? context.agentId;
    return { cleared: this.mcp.clear(agentId), agent_id: agentId ?? 'all' };
  }
}
