import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { agentResult, budgetUpdated, completionCancelled, completionError, completionResult, messagePublish, type PayloadOf } from '../../../libs/client/src';
import { EventBus } from '../../events/event-bus';
import { Listens } from '../../events/handles.decorator';
import { DAEMON_LOG } from '../../logging/logger';
import { AgentMessageRepository } from './agent-message.repository';
import { AgentTurns } from './agent-turns.service';
import { AgentRepository } from './agent.repository';

/** Restarts after failures, like pm2: 1 s, 2 s, 4 s … up to this many, then the agent stays failed. */
const MAX_RESTARTS = 5;

/**
 * How an agent's turn ended, from its completion's outcome: a reply becomes the agent's session and is
 * published (agent:result, AGENT_RESULT); a failure is kept for agent:retry and restarts the agent
 * after a backoff; then the agent's next message runs.
 */
@Injectable()
export class TurnOutcomes {
  private readonly restartTimers = new Map<string, NodeJS.Timeout>();
  /** Outcomes being settled: one heard twice at once (relayed, and found by an adoption) settles once. */
  private readonly settling = new Set<string>();

  constructor(
    @Inject(DAEMON_LOG) private readonly log: Logger,
    private readonly bus: EventBus,
    private readonly agents: AgentRepository,
    private readonly messages: AgentMessageRepository,
    private readonly turns: AgentTurns,
  ) {}

  /** The agent's pending restart after a failure is off (it was retried, restarted or terminated). */
  cancelRestart(agentId: string): void {
    clearTimeout(this.restartTimers.get(agentId));
    this.restartTimers.delete(agentId);
  }

  @Listens(completionResult)
  onResult(end: PayloadOf<typeof completionResult>): Promise<void> {
    return this.once(end.request_id, () => this.settleResult(end));
  }

  @Listens(completionError)
  onError(end: PayloadOf<typeof completionError>): Promise<void> {
    return this.once(end.request_id, () => this.settleError(end));
  }

  @Listens(completionCancelled)
  onCancelled(end: PayloadOf<typeof completionCancelled>): Promise<void> {
    return this.once(end.request_id, () => this.settleCancelled(end));
  }

  private async once(requestId: string, settle: () => Promise<void>): Promise<void> {
    if (this.settling.has(requestId)) return;
    this.settling.add(requestId);
    try {
      await settle();
    } finally {
      this.settling.delete(requestId);
    }
  }

  private async settleResult(end: PayloadOf<typeof completionResult>): Promise<void> {
    const item = await this.messages.byRequest(end.request_id);
    if (!item) return;
    if (!(await this.messages.settleReply(item.id, item.agentId, end.session_id ?? null))) return;
    const text = end.result?.response?.result;
    const inReplyTo = JSON.parse(item.message) as Record<string, unknown>;
    this.bus.emit(agentResult, { agent_id: item.agentId, request_id: end.request_id, session_id: end.session_id, text: text ?? '', in_reply_to: inReplyTo });
    await this.bus
      .request(messagePublish, { event_type: 'AGENT_RESULT', agent_id: item.agentId, message: { request_id: end.request_id, session_id: end.session_id, text, in_reply_to: inReplyTo } })
      .catch((error: Error) => this.log.warn({ err: error.message }, 'agent result not published'));
    void this.turns.next(item.agentId);
  }

  private async settleError(end: PayloadOf<typeof completionError>): Promise<void> {
    const item = await this.messages.byRequest(end.request_id);
    if (!item) return;
    const agent = await this.agents.find(item.agentId);
    if (end.code === 'budget_exhausted') {
      await this.messages.waitForBudget(item.id, item.agentId);
      return;
    }
    // The CLI stopped the turn at the budget's cap: it ran and paid, so it is failed (for agent:retry), not
    // restarted; the next message finds the budget spent and waits.
    if (end.code === 'max_budget_reached') {
      if (!(await this.turns.failTurn(item.id, end.request_id, item.agentId, { error: end.error, code: end.code, agent: 'idle' })).settled) return;
      void this.turns.next(item.agentId);
      return;
    }
    const sessionLost = agent !== undefined && agent.status !== 'stopped' && (end.code === 'session_not_found' || end.code === 'context_overflow');
    const failed = await this.turns.failTurn(item.id, end.request_id, item.agentId, {
      error: end.error,
      code: end.code,
      agent: 'failed',
      ...(sessionLost && { forgetSession: { sessionId: agent.sessionId } }),
    });
    if (failed.agentFailed && agent) this.restartLater(item.agentId, agent.restarts, end.error);
    if (sessionLost && failed.settled) await this.reportLostSession(item.agentId, agent.sessionId, end.code, failed.sessionForgotten);
  }

  /** A failed agent runs again after its backoff, unless it failed too often. Set at once: an agent:retry cancels it. */
  private restartLater(agentId: string, restarts: number, error: string): void {
    this.cancelRestart(agentId);
    if (restarts >= MAX_RESTARTS) {
      this.log.error({ agent_id: agentId, error }, 'agent failed too often; it stays failed');
      return;
    }
    const delay = 1_000 * 2 ** restarts;
    this.restartTimers.set(
      agentId,
      setTimeout(() => {
        this.restartTimers.delete(agentId);
        void this.agents.idleAfterBackoff(agentId).then(() => this.turns.next(agentId));
      }, delay).unref(),
    );
  }

  /** A budget was raised, removed or refilled: agents it stopped try their next message (each is checked again). */
  @Listens(budgetUpdated)
  async onBudgetUpdated(): Promise<void> {
    for (const agentId of await this.agents.idleAfterBudget()) void this.turns.next(agentId);
  }

  private async settleCancelled(end: PayloadOf<typeof completionCancelled>): Promise<void> {
    const item = await this.messages.byRequest(end.request_id);
    if (!item) return;
    if (!(await this.turns.failTurn(item.id, end.request_id, item.agentId, { error: 'Cancelled', code: 'cancelled', agent: 'idle' })).settled) return;
    void this.turns.next(item.agentId);
  }

  /**
   * The agent's session cannot go on: the CLI no longer has it (its store was wiped, or the agent
   * moved to another machine), or it outgrew the model's context. The next turn starts a new session
   * with the profile's prompt, rather than every turn failing for good. The failed turn stays failed,
   * so `agent:retry` runs it again on the new session.
   */
  private async reportLostSession(agentId: string, sessionId: string | null, why: string, forgotten: boolean): Promise<void> {
    if (forgotten) return void this.log.warn({ agent_id: agentId, session_id: sessionId, code: why }, 'the agent’s session cannot go on; its next turn starts a new one');
    const current = (await this.agents.find(agentId))?.sessionId;
    this.log.warn({ agent_id: agentId, session_id: sessionId, current_session_id: current, code: why }, 'the agent’s session changed before it could be forgotten; it is kept');
  }
}
