import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { completionAsync } from '../../../libs/client/src';
import { CLOCK, type Clock } from '../../common/clock';
import { KSI_CONFIG, type KsiConfig } from '../../config/config';
import { EventBus } from '../../events/event-bus';
import { EventError } from '../../events/event-error';
import { DAEMON_LOG } from '../../logging/logger';
import { AgentMessageRepository, type FailedTurnOutcome, type TurnFailure } from './agent-message.repository';
import type { AgentConfig } from './agent-records.service';
import { AgentRepository } from './agent.repository';
import { promptOf } from './turn-prompt';

/**
 * The turn loop: an idle agent's oldest pending message becomes one completion on the agent's session
 * (the composed profile's model; its prompt as system prompt on the first turn; its permissions and
 * sandbox through the completion module). TurnOutcomes settles the turn when the completion ends.
 */
@Injectable()
export class AgentTurns {
  /** The agents whose next turn is being started (or that withoutTurns holds), and when that is done. */
  private readonly pumping = new Map<string, Promise<void>>();
  /**
   * Agents asked for their next turn while `pumping` held them: looked at again once that is done. A
   * message stored after a running pump looked for one would otherwise wait for the next wake-up.
   */
  private readonly askedAgain = new Set<string>();

  constructor(
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(KSI_CONFIG) private readonly config: KsiConfig,
    @Inject(DAEMON_LOG) private readonly log: Logger,
    private readonly bus: EventBus,
    private readonly agents: AgentRepository,
    private readonly messages: AgentMessageRepository,
  ) {}

  /** Starts the agent's next message when it is idle. */
  next(agentId: string): Promise<void> {
    const running = this.pumping.get(agentId);
    if (running) {
      this.askedAgain.add(agentId);
      return running;
    }
    const pump = this.pump(agentId).finally(() => this.released(agentId));
    this.pumping.set(agentId, pump);
    return pump;
  }

  private released(agentId: string): void {
    this.pumping.delete(agentId);
    if (this.askedAgain.delete(agentId)) void this.next(agentId);
  }

  /**
   * Runs `work` while no turn of the agent is being started: a turn being started first gets its
   * request, and none starts until `work` is done (its message would look never queued meanwhile).
   */
  async withoutTurns<T>(agentId: string, work: () => Promise<T>): Promise<T> {
    for (let pump = this.pumping.get(agentId); pump; pump = this.pumping.get(agentId)) await pump;
    const run = work();
    const held = run.then(
      () => undefined,
      () => undefined,
    );
    this.pumping.set(agentId, held);
    try {
      return await run;
    } finally {
      if (this.pumping.get(agentId) === held) this.released(agentId);
    }
  }

  private async pump(agentId: string): Promise<void> {
    let claimed: { messageId: number; requestId: string } | undefined;
    try {
      const agent = await this.agents.find(agentId);
      if (!agent || agent.status !== 'idle') return;
      // Another node runs this agent (a message for it may arrive on any node): that node is asked to.
      // One no node holds waits for the node that adopts it, which runs its next turn.
      if (agent.owner !== this.config.node.id) {
        if (agent.owner !== null) await this.agents.announce({ to: agent.owner, agentId });
        return;
      }
      const next = await this.messages.nextPending(agentId);
      if (!next) return;
      const message = JSON.parse(next.message) as Record<string, unknown>;
      const config = JSON.parse(agent.config) as AgentConfig;
      // The turn's id goes with the claim: whoever finds the message in flight knows which request answers it.
      const requestId = randomUUID();
      if (!(await this.messages.claim(next.id, agentId, requestId))) return;
      claimed = { messageId: next.id, requestId };
      await this.bus.requestOne(completionAsync, {
        request_id: requestId,
        prompt: promptOf(message),
        model: config.model,
        agent_id: agentId,
        conversation_id: `agent:${agentId}`,
        ...(agent.sessionId ? { session_id: agent.sessionId } : { system_prompt: config.prompt }),
        // Its bridge, not its config's path here: an attempt may run on another node (this one died or stopped).
        agent_bridge: true,
        ...(config.claude_config_dir !== undefined && { claude_config_dir: config.claude_config_dir }),
      });
    } catch (error) {
      this.log.error({ agent_id: agentId, err: (error as Error).message }, 'agent could not start its next message');
      const code = error instanceof EventError ? error.code : 'internal_error';
      if (!claimed) return void (await this.agents.setStatus(agentId, 'failed'));
      // A turn this node lost meanwhile (it was paused, and the node that adopted the agent took the message back) is not its to fail.
      await this.failTurn(claimed.messageId, claimed.requestId, agentId, { error: `The turn could not be queued: ${(error as Error).message}`, code, agent: 'failed' });
    }
  }

  /** See AgentMessageRepository.failTurn. */
  failTurn(messageId: number, requestId: string, agentId: string, failure: TurnFailure): Promise<FailedTurnOutcome> {
    return this.messages.failTurn(messageId, requestId, agentId, failure, this.clock.now());
  }
}
