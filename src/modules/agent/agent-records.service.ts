import { Injectable } from '@nestjs/common';
import { costAgentTotals, type AgentInfo, type HandlerResult, type agentInfo } from '../../../libs/client/src';
import { EventBus } from '../../events/event-bus';
import { EventError } from '../../events/event-error';
import { AgentMessageRepository, type FailedTurn, type InboxCounts } from './agent-message.repository';
import type { Agent } from './agent.entity';
import { AgentRepository } from './agent.repository';
import { promptOf } from './turn-prompt';

/** What an agent was composed with (the `config` column). */
export interface AgentConfig {
  model: string;
  prompt: string;
  role: string;
  capabilities: string[];
  permission_profile: string;
  /** The repository the agent's workspace is a worktree of, if any: a restart checks its branch out again. */
  repository?: string;
  /** The Claude account its turns run as (CLAUDE_CONFIG_DIR), when its profile names one. */
  claude_config_dir?: string;
}

interface Inbox {
  counts: InboxCounts;
  failed: FailedTurn[];
}

/** Failed turns agent:info lists (the count covers all of them). */
const FAILED_TURNS_SHOWN = 10;

/** What agent:list and agent:info show of the agents' durable records. */
@Injectable()
export class AgentRecords {
  constructor(
    private readonly agents: AgentRepository,
    private readonly messages: AgentMessageRepository,
    private readonly bus: EventBus,
  ) {}

  async list(status?: string): Promise<AgentInfo[]> {
    const listed = (agents: Agent[]) => agents.filter((agent) => status === undefined || agent.status === status);
    const inboxes = new Map(await Promise.all(listed(await this.agents.all()).map(async (agent) => [agent.agentId, await this.inboxOf(agent.agentId)] as const)));
    // Read again after the inboxes (see inboxOf); an agent listed only now waits for the next list.
    const agents = listed(await this.agents.all()).filter((agent) => inboxes.has(agent.agentId));
    return agents.map((agent) => this.toInfo(agent, inboxes.get(agent.agentId)!));
  }

  async info(agentId: string): Promise<AgentInfo> {
    const inbox = await this.inboxOf(agentId);
    const agent = await this.agents.find(agentId);
    if (!agent) throw new EventError('not_found', `Agent ${agentId} not found`);
    return this.toInfo(agent, inbox);
  }

  /** An agent and what its completions cost, across its restarts (costs are recorded by the completion module). */
  async infoWithCosts(agentId: string): Promise<HandlerResult<typeof agentInfo>> {
    const info = await this.info(agentId);
    return { ...info, costs: await this.bus.requestOne(costAgentTotals, { agent_id: agentId }) };
  }

  /** The first idle agent with every capability that `takes` the task (for TASK_ASSIGNMENT). */
  async findIdle(capabilities: string[], takes: (agentId: string) => boolean): Promise<string | undefined> {
    return (await this.list('idle')).find((agent) => capabilities.every((capability) => agent.capabilities.includes(capability)) && takes(agent.agent_id))?.agent_id;
  }

  /**
   * The reads are separate statements (on separate connections on PostgreSQL), each seeing what was
   * committed when it began, so they run one after another, the later reads after what they must
   * agree with. The list after the counts: a failed turn counted is listed (unless requeued between
   * the two). The agent's row after the inbox: a turn's end changes both in one commit, so whoever
   * sees the end in the inbox sees the agent after it too.
   */
  private async inboxOf(agentId: string): Promise<Inbox> {
    const counts = await this.messages.counts(agentId);
    return { counts, failed: await this.messages.latestFailed(agentId, FAILED_TURNS_SHOWN) };
  }

  private toInfo(agent: Agent, { counts, failed }: Inbox): AgentInfo {
    const config = JSON.parse(agent.config) as AgentConfig;
    return {
      agent_id: agent.agentId,
      status: agent.status,
      profile: agent.profile,
      session_id: agent.sessionId,
      model: config.model,
      role: config.role,
      capabilities: config.capabilities,
      permission_profile: config.permission_profile,
      sandbox: agent.sandboxDir,
      restarts: agent.restarts,
      node_id: agent.owner,
      pending_messages: counts.pending,
      failed_messages: counts.failed,
      failed_turns: failed.map((turn) => ({
        message_id: turn.id,
        prompt: excerpt(promptOf(JSON.parse(turn.message) as Record<string, unknown>)),
        error: turn.error ?? 'The turn failed',
        code: turn.errorCode ?? 'failed',
        failed_at: turn.failedAt === null ? null : turn.failedAt / 1000,
      })),
      created_at: agent.createdAt / 1000,
    };
  }
}

/** A prompt shown beside its failure: the start of it is enough to recognise it. */
function excerpt(text: string): string {
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
