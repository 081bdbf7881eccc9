import { Inject, Injectable } from '@nestjs/common';
import * as path from 'node:path';
import { mcpAgentConfig } from '../../../libs/client/src';
import { KSI_CONFIG, type KsiConfig } from '../../config/config';
import { EventBus } from '../../events/event-bus';
import { EventError } from '../../events/event-error';
import { AgentRepository } from './agent.repository';

/**
 * Each agent's MCP bridge on this node. A config names the socket of the daemon that wrote it and the
 * token current then, so the agent's row names the one written with its current token. When that one
 * is on another node (the agent moved here), one is written here with a new token, which also ends
 * the old one's bridges.
 */
@Injectable()
export class AgentBridges {
  /** Configs being found or written, by agent: an adoption and an attempt asking at once issue one token, not two. */
  private readonly resolving = new Map<string, Promise<string>>();

  constructor(
    @Inject(KSI_CONFIG) private readonly config: KsiConfig,
    private readonly bus: EventBus,
    private readonly agents: AgentRepository,
  ) {}

  /** The agent's --mcp-config on this node. */
  configHere(agentId: string): Promise<string> {
    let config = this.resolving.get(agentId);
    if (!config) {
      config = this.resolve(agentId).finally(() => this.resolving.delete(agentId));
      this.resolving.set(agentId, config);
    }
    return config;
  }

  private async resolve(agentId: string): Promise<string> {
    const agent = await this.agents.find(agentId);
    if (!agent) throw new EventError('not_found', `Agent ${agentId} not found`);
    if (agent.mcpConfigPath?.startsWith(`${this.config.varDir}${path.sep}`)) return agent.mcpConfigPath;
    const { path: written } = await this.bus.requestOne(mcpAgentConfig, { agent_id: agentId });
    await this.agents.setMcpConfig(agentId, written);
    return written;
  }
}
