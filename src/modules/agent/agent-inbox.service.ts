import { Inject, Injectable } from '@nestjs/common';
import { CLOCK, type Clock } from '../../common/clock';
import { EventError } from '../../events/event-error';
import { AgentMessageRepository } from './agent-message.repository';
import { AgentTurns } from './agent-turns.service';
import { AgentRepository } from './agent.repository';
import { TurnOutcomes } from './turn-outcomes.service';

/** Each agent's durable inbox: messages wait there in order until the agent is idle, failed ones until they are retried. */
@Injectable()
export class AgentInbox {
  constructor(
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly agents: AgentRepository,
    private readonly messages: AgentMessageRepository,
    private readonly turns: AgentTurns,
    private readonly outcomes: TurnOutcomes,
  ) {}

  /** Adds a message to the agent's inbox; it runs when the agent is idle, in order. */
  async enqueue(agentId: string, message: Record<string, unknown>): Promise<number> {
    await this.running(agentId);
    const id = await this.messages.enqueue(agentId, JSON.stringify(message), this.clock.now());
    void this.turns.next(agentId);
    return id;
  }

  /** A broadcast is delivered once to every other running agent that accepts the sender's messages, and is never broadcast again. */
  async broadcast(message: Record<string, unknown>, sender: string, accepts: (agentId: string) => boolean): Promise<{ agents_reached: number; total_agents: number; declined: string[] }> {
    const everyAgent = await this.agents.all();
    const running = everyAgent.filter((agent) => agent.status !== 'stopped' && agent.agentId !== sender).map((agent) => agent.agentId);
    const reached = running.filter(accepts);
    for (const agentId of reached) await this.enqueue(agentId, { ...message, type: 'broadcast', from: sender });
    const reachedIds = new Set(reached);
    return { agents_reached: reached.length, total_agents: everyAgent.length, declined: running.filter((agentId) => !reachedIds.has(agentId)) };
  }

  /**
   * Failed messages of an agent (one, or all) go back to the inbox in their original order, ahead of
   * newer ones; a failed agent becomes idle so they run now.
   */
  async retry(agentId: string, messageId?: number): Promise<number[]> {
    await this.running(agentId);
    const failed = await this.messages.failedIds(agentId);
    const chosen = messageId === undefined ? failed : failed.filter((id) => id === messageId);
    if (messageId !== undefined && chosen.length === 0) throw new EventError('not_found', `Agent ${agentId} has no failed message ${messageId}; agent:info lists its failed turns`);
    this.outcomes.cancelRestart(agentId);
    await this.messages.requeue(agentId, chosen);
    void this.turns.next(agentId);
    return chosen;
  }

  /** Messages go to agents that exist and are not stopped. */
  private async running(agentId: string): Promise<void> {
    const agent = await this.agents.find(agentId);
    if (!agent || agent.status === 'stopped') throw new EventError('not_found', `Agent ${agentId} not found`);
  }
}
