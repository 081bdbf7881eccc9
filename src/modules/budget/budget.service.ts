import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { budgetUpdated, costSpent, roundUsd, type BudgetScope, type BudgetStatus, type ParamsOut, type PayloadOf, type budgetCheck, type budgetSet } from '../../../libs/client/src';
import type { Logger } from 'pino';
import { CLOCK, type Clock } from '../../common/clock';
import { KSI_CONFIG, type KsiConfig } from '../../config/config';
import { EventBus } from '../../events/event-bus';
import { EventError } from '../../events/event-error';
import { DAEMON_LOG } from '../../logging/logger';
import type { Budget } from './budget.entity';
import { periodBounds } from './budget-period';
import { BudgetRepository } from './budget.repository';

/** The global budget's stored id. */
const GLOBAL = '';

const keyOf = (scope: BudgetScope, scopeId: string) => `${scope}:${scopeId}`;

/**
 * Spending limits per agent, per profile and for every completion. On SQLite budgets are kept in
 * memory (read once at start, changed after each committed write), so a turn with no budget that
 * applies is checked without the database. On PostgreSQL other nodes may change them, so each check
 * reads them afresh unless this node knows it is alone (see Storage.soleEpoch), and a change is
 * announced to the other nodes (their waiting agents try again). Spending is read from the costs
 * recorded per completion, every node's.
 */
@Injectable()
export class BudgetService implements OnModuleInit, OnModuleDestroy {
  private readonly budgets = new Map<string, Budget>();
  /** The end of an exhausted budget's period, which lets what it stopped run again. */
  private readonly periodTimers = new Map<string, NodeJS.Timeout>();

  /** Other nodes may change budgets. */
  private readonly shared: boolean;
  /** The sole-writer epoch the budgets in memory were read in; undefined when they must be read again. */
  private loadedEpoch: number | undefined;
  /** Moves when a budget write of this node starts and when it ends: a read that saw it move may hold a budget from before the write. */
  private writeMoves = 0;

  constructor(
    @Inject(KSI_CONFIG) private readonly config: KsiConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(DAEMON_LOG) private readonly log: Logger,
    private readonly repo: BudgetRepository,
    private readonly bus: EventBus,
  ) {
    this.shared = config.node.clustered;
  }

  async onModuleInit(): Promise<void> {
    await this.reload();
    this.repo.onAnnounced((from, change) => {
      if (from !== this.config.node.id) this.bus.emit(budgetUpdated, change);
    });
  }

  async set({ scope, id, limit_usd, period }: ParamsOut<typeof budgetSet>): Promise<BudgetStatus> {
    const budget: Budget = { scope, scopeId: id ?? GLOBAL, limitUsd: limit_usd, period, updatedAt: this.clock.now() };
    await this.writing(() => this.repo.save(budget));
    const key = keyOf(scope, budget.scopeId);
    this.budgets.set(key, budget);
    clearTimeout(this.periodTimers.get(key));
    this.changed({ scope, id: id ?? null, reason: 'set' });
    return this.statusOf(budget);
  }

  async remove(scope: BudgetScope, id: string | undefined): Promise<boolean> {
    const scopeId = id ?? GLOBAL;
    const removed = await this.writing(() => this.repo.delete(scope, scopeId));
    this.budgets.delete(keyOf(scope, scopeId));
    clearTimeout(this.periodTimers.get(keyOf(scope, scopeId)));
    if (removed) this.changed({ scope, id: id ?? null, reason: 'removed' });
    return removed;
  }

  async list(): Promise<BudgetStatus[]> {
    await this.refresh();
    return Promise.all([...this.budgets.values()].map((budget) => this.statusOf(budget)));
  }

  async status(scope: BudgetScope, id: string | undefined): Promise<BudgetStatus> {
    await this.refresh();
    const budget = this.budgets.get(keyOf(scope, id ?? GLOBAL));
    if (!budget) throw new EventError('not_found', `No ${scope} budget${id === undefined ? '' : ` for ${id}`}; set one with budget:set`);
    return this.statusOf(budget);
  }

  /**
   * Whether a turn for this agent (of this profile) may start: the first exhausted budget of those
   * that apply (the agent's, its profile's, the global one), else the smallest amount left.
   */
  async check({ agent_id, profile }: ParamsOut<typeof budgetCheck>): Promise<{ remaining_usd: number | null; exhausted: BudgetStatus | null }> {
    await this.refresh();
    const applying = [
      agent_id !== undefined && this.budgets.get(keyOf('agent', agent_id)),
      profile != null && this.budgets.get(keyOf('profile', profile)),
      this.budgets.get(keyOf('global', GLOBAL)),
    ].filter((budget): budget is Budget => Boolean(budget));
    if (applying.length === 0) return { remaining_usd: null, exhausted: null };
    const statuses = await Promise.all(applying.map((budget) => this.statusOf(budget)));
    const exhausted = statuses.find((status) => status.exhausted) ?? null;
    if (exhausted) this.resumeAtPeriodEnd(exhausted);
    return { remaining_usd: Math.min(...statuses.map((status) => status.remaining_usd)), exhausted };
  }

  onModuleDestroy(): void {
    for (const timer of this.periodTimers.values()) clearTimeout(timer);
  }

  /** What other nodes changed, on a shared database, unless none could have changed anything since the last read. */
  private async refresh(): Promise<void> {
    if (!this.shared) return;
    const epoch = this.repo.soleEpoch();
    if (epoch === undefined || epoch !== this.loadedEpoch) await this.reload();
  }

  private async reload(): Promise<void> {
    const epoch = this.repo.soleEpoch();
    const moves = this.writeMoves;
    const budgets = await this.repo.all();
    this.budgets.clear();
    for (const budget of budgets) this.budgets.set(keyOf(budget.scope, budget.scopeId), budget);
    const unchanged = epoch !== undefined && this.repo.soleEpoch() === epoch && this.writeMoves === moves;
    this.loadedEpoch = unchanged ? epoch : undefined;
  }

  private async writing<T>(write: () => Promise<T>): Promise<T> {
    this.writeMoves++;
    try {
      return await write();
    } finally {
      this.writeMoves++;
    }
  }

  /** This node's listeners hear of the change at once; the other nodes' once the signal reaches them. */
  private changed(change: PayloadOf<typeof budgetUpdated>): void {
    this.bus.emit(budgetUpdated, change);
    void this.repo.announce(this.config.node.id, change).catch((error: Error) => this.log.warn({ err: error.message }, 'budget change not announced to the other nodes'));
  }

  private async statusOf(budget: Budget): Promise<BudgetStatus> {
    const { start, end } = periodBounds(budget.period, this.clock.now());
    const by = budget.scope === 'agent' ? { agent_id: budget.scopeId } : budget.scope === 'profile' ? { profile: budget.scopeId } : {};
    const { cost_usd: spent } = await this.bus.requestOne(costSpent, { since: start, ...by });
    const remaining = Math.max(0, roundUsd(budget.limitUsd - spent));
    return {
      scope: budget.scope,
      id: budget.scope === 'global' ? null : budget.scopeId,
      limit_usd: budget.limitUsd,
      period: budget.period,
      spent_usd: spent,
      remaining_usd: remaining,
      exhausted: remaining <= 0,
      period_start: budget.period === 'total' ? null : start / 1000,
      period_end: end === null ? null : end / 1000,
    };
  }

  /** A day's or month's budget refills when its period ends: what it stopped is told then. */
  private resumeAtPeriodEnd(status: BudgetStatus): void {
    if (status.period_end === null) return;
    const key = keyOf(status.scope, status.id ?? GLOBAL);
    if (this.periodTimers.has(key)) return;
    // A millisecond past the end: a timer may fire a little early by the wall clock.
    const delay = Math.max(0, status.period_end * 1000 - this.clock.now()) + 1;
    const timer = setTimeout(() => {
      this.periodTimers.delete(key);
      this.bus.emit(budgetUpdated, { scope: status.scope, id: status.id, reason: 'new_period' });
    }, Math.min(delay, 2 ** 31 - 1)).unref();
    this.periodTimers.set(key, timer);
  }
}
