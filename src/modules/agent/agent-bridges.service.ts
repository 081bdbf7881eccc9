import { Inject, Injectable } from '@nestjs/common';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { mcpAgentConfig } from '../../../libs/client/src';
import { KSI_CONFIG, type KsiConfig } from '../../config/config';
import { EventBus } from '../../events/event-bus';
import { EventError } from '../../events/event-error';
import { AgentRepository } from './agent.repository';

/**
 * Each agent's MCP bridge on this node. A config names the socket of the daemon that wrote it and the
 * token current then, so the agent's row names the one written with its current token. An agent taken
 * from another node gets one written here with a new token, which also ends the old one's bridges.
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

  /** The agent's --mcp-config on this node: the one its row names when it is in this node's var dir, else a new one. */
  configHere(agentId: string): Promise<string> {
    return this.once(agentId, async () => {
      const agent = await this.agents.find(agentId);
      if (!agent) throw new EventError('not_found', `Agent ${agentId} not found`);
      const current = agent.mcpConfigPath;
      if (current?.startsWith(`${this.config.varDir}${path.sep}`) && fs.existsSync(current)) return current;
      return this.writeHere(agentId);
    });
  }

  /**
   * A new config written here for an agent taken from another node. Its row's path may still look like
   * this node's (another host with the same var dir), and a file there would hold an old token.
   */
  takenFromAnotherNode(agentId: string): Promise<string> {
    return this.once(agentId, () => this.writeHere(agentId));
  }

  private async writeHere(agentId: string): Promise<string> {
    const { path: written } = await this.bus.requestOne(mcpAgentConfig, { agent_id: agentId });
    await this.agents.setMcpConfig(agentId, written);
    return written;
  }

  private once(agentId: string, find: () => Promise<string>): Promise<string> {
    let config = this.resolving.get(agentId);
    if (!config) {
      config = find().finally(() => this.resolving.delete(agentId));
      this.resolving.set(agentId, config);
    }
    return config;
  }
}
