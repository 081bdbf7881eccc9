import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { budgetExhausted, completionProgress, completionResult, type BudgetStatus, type ModelProvider, type StandardResponse } from '../../../libs/client/src';
import { CLOCK, type Clock } from '../../common/clock';
import { KSI_CONFIG, type KsiConfig } from '../../config/config';
import { DAEMON_LOG } from '../../logging/logger';
import { CompletionNotifier } from './completion-notifier';
import type { CompletionRequest } from './completion-request.entity';
import { CompletionRepository } from './completion.repository';
import { CostRepository } from './cost.repository';
import { LiveRequests, type AbortReason } from './live-requests';
import type { AttemptOutcome } from './providers/attempt-outcome';
import { ResponseLog } from './response-log';
import { backoffDelay } from './retry-policy';
import { UsageWindows } from './usage-windows';

/** One attempt of a request, as its settlement needs it. */
export interface Attempt {
  row: CompletionRequest;
  /** The attempt's number, from 1. */
  number: number;
  /** The turn that was sent. */
  prompt: string;
  /** The session the attempt resumed; undefined for a new one. */
  resume: string | undefined;
  signal: AbortSignal;
  /** Called once what the attempt spent is queued to be written: its process has ended, and another attempt may start. */
  freeSlot: () => void;
}

/** How an attempt ends its row: completed, back to the queue for a retry, cancelled or failed; and who hears of it. */
@Injectable()
export class AttemptSettlement {
  constructor(
    @Inject(KSI_CONFIG) private readonly config: KsiConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(DAEMON_LOG) private readonly log: Logger,
    private readonly repo: CompletionRepository,
    private readonly costs: CostRepository,
    private readonly responses: ResponseLog,
    private readonly live: LiveRequests,
    private readonly notifier: CompletionNotifier,
    private readonly windows: UsageWindows,
  ) {}

  async settle(attempt: Attempt, outcome: AttemptOutcome, provider: ModelProvider): Promise<void> {
    const { row, signal, freeSlot } = attempt;
    const now = this.clock.now();
    // Whatever ends the attempt, the money it reports was spent. Writes commit in the order they are
    // queued, so the next attempt's claim commits with or after this cost, and its budget check sees it.
    const recorded = outcome.cost && this.costs.record(row.requestId, outcome.cost);
    // Awaited below; a failure meanwhile is not unhandled.
    recorded?.catch(() => undefined);
    // A usage limit with a reset parks the whole account, whether or not this request may try again:
    // before another attempt may start, and before anyone hears of the failure, so whoever does sees the window.
    if (!signal.aborted && !outcome.ok && outcome.code === 'rate_limited' && outcome.retryAt !== undefined && outcome.retryAt > now) {
      await this.windows.open({ account: row.account, pausedUntil: outcome.retryAt, reason: outcome.message, requestId: row.requestId });
    }
    freeSlot();
    // The row's end is queued right behind the cost, not once the cost commits: both commit in one batch.
    await this.end(attempt, outcome, provider, now);
    await recorded;
  }

  private async end({ row, number, prompt, resume, signal }: Attempt, outcome: AttemptOutcome, provider: ModelProvider, now: number): Promise<void> {
    const id = row.requestId;
    // A turn that answered while the daemon stopped is kept: it was paid for, and a re-run would pay again.
    const answeredDuringStop = outcome.ok && signal.reason === 'shutdown';
    if (!answeredDuringStop && (await this.endIfAborted(row, number, signal, now))) return;
    if (outcome.ok) {
      const sessionId = outcome.response.session_id;
      const standard: StandardResponse = {
        ksi: {
          provider,
          request_id: id,
          timestamp: new Date(now).toISOString(),
          duration_ms: outcome.durationMs,
          attempt: number,
          node_id: this.config.node.id,
          prompt,
          resumed_session_id: resume ?? null,
          ...(row.clientId && { client_id: row.clientId }),
          ...(row.agentId && { agent_id: row.agentId }),
        },
        response: outcome.response,
      };
      if (!(await this.repo.complete(row, JSON.stringify(standard), sessionId, resume, now))) return this.leaseLost(row);
      if (sessionId) await this.responses.append(sessionId, standard).catch((error: Error) => this.log.warn({ err: error.message }, 'response log not written'));
      this.notifier.notify(completionResult, { request_id: id, session_id: sessionId ?? null, result: standard }, true);
      return;
    }
    if (outcome.retryable && number < row.maxAttempts) {
      const at = outcome.retryAt ?? now + backoffDelay(this.config.retry, number);
      if (!(await this.repo.retry(row, at, outcome.message, outcome.code))) return this.leaseLost(row);
      const retry = { request_id: id, session_id: row.sessionId, status: 'retry_scheduled', attempt: number, next_attempt_at: at / 1000, error: outcome.message, code: outcome.code } as const;
      this.notifier.notify(completionProgress, retry);
      return;
    }
    if (!(await this.repo.fail(row, 'failed', outcome.message, outcome.code, now))) return this.leaseLost(row);
    this.notifier.failed({ request_id: id, session_id: row.sessionId, error: outcome.message, code: outcome.code, attempts: number });
  }

  /**
   * A spent budget applies: the request fails without an attempt (nothing ran, nothing was spent), and
   * the requester hears which budget it was; an agent's turn waits for the budget (see TurnOutcomes).
   */
  async refuseOverBudget(row: CompletionRequest, budget: BudgetStatus): Promise<void> {
    const id = row.requestId;
    const message = overBudget(budget);
    if (!(await this.repo.fail(row, 'failed', message, 'budget_exhausted', this.clock.now()))) return this.leaseLost(row);
    this.notifier.notify(budgetExhausted, { ...budget, request_id: id, agent_id: row.agentId });
    this.notifier.failed({ request_id: id, session_id: row.sessionId, error: message, code: 'budget_exhausted', attempts: row.attempts });
  }

  /**
   * An attempt a shutdown stopped before it answered goes back to the queue at once, for this node's
   * next start or another node (a restart adds an attempt beyond the budget); one a cancel stopped is
   * cancelled; one whose lease was lost writes nothing. False when nothing stopped it.
   */
  async endIfAborted(row: CompletionRequest, attempts: number, signal: AbortSignal, now: number): Promise<boolean> {
    if (!signal.aborted) return false;
    const id = row.requestId;
    const reason = signal.reason as AbortReason;
    if (reason === 'lease_lost') {
      this.leaseLost(row);
    } else if (reason === 'shutdown') {
      if (await this.repo.retry(row, now, 'Interrupted by a daemon shutdown', 'daemon_restart', attempts + 1)) this.live.markInterrupted(id);
    } else if (await this.repo.fail(row, 'cancelled', 'Cancelled', 'cancelled', now)) {
      this.notifier.cancelled(id, row.sessionId);
    }
    return true;
  }

  /** The request's lease is no longer this node's: another node runs it (or it was cancelled there), and this attempt's end is dropped. */
  private leaseLost(row: CompletionRequest): void {
    this.log.warn({ request_id: row.requestId, epoch: row.leaseEpoch }, 'completion attempt ended after its lease was lost: nothing written');
  }
}

/** Which budget is spent, and what lets the work run again. */
function overBudget(budget: BudgetStatus): string {
  const which = budget.scope === 'global' ? 'global budget' : `budget of ${budget.scope} ${budget.id}`;
  const period = budget.period === 'total' ? '' : ` this ${budget.period}`;
  const until = budget.period_end === null ? '' : `, or wait for its period to end at ${new Date(budget.period_end * 1000).toISOString()}`;
  return `Not started: the ${which} ($${budget.limit_usd}${period}) is spent ($${budget.spent_usd}); raise it with budget:set${until}`;
}
