import { Injectable } from '@nestjs/common';
import { mcpAgentConfig, mcpClearSessions, mcpSessionStart, mcpStatus, type HandlerResult, type ParamsOut } from '../../../libs/client/src';
import type { EventContext } from '../../events/event-context';
import { EventError } from '../../events/event-error';
import { Handles } from '../../events/handles.decorator';
import { McpService } from './mcp.service';

@Injectable()
export class McpHandlers {
  constructor(private readonly mcp: McpService) {}

  @Handles(mcpAgentConfig, { agentParams: { agent_id: 'child' } })
  async agentConfig({ agent_id }: ParamsOut<typeof mcpAgentConfig>, context: EventContext): Promise<HandlerResult<typeof mcpAgentConfig>> {
    return { agent_id, path: await this.mcp.writeAgentConfig(agent_id, context) };
  }

  @Handles(mcpSessionStart)
  sessionStart(_data: ParamsOut<typeof mcpSessionStart>, context: EventContext): HandlerResult<typeof mcpSessionStart> {
    if (!context.connection || context.agentId === undefined) throw new EventError('permission_denied', 'Identify as an agent (system:identify) first');
    this.mcp.startSession(context.connection, context.agentId);
    return { status: 'started', agent_id: context.agentId };
  }

  @Handles(mcpStatus)
  status(): HandlerResult<typeof mcpStatus> {
    return this.mcp.status();
  }

  @Handles(mcpClearSessions, { agentParams: { agent_id: 'self' } })
  clear({ agent_id }: ParamsOut<typeof mcpClearSessions>, context: EventContext): HandlerResult<typeof mcpClearSessions> {
    const agentId = agent_id ?? context.agentId;
    return { cleared: this.mcp.clear(agentId), agent_id: agentId ?? 'all' };
  }
}
