import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { completionProgress, type UsageWindow } from '../../../libs/client/src';
import { CLOCK, type Clock } from '../../common/clock';
import { KSI_CONFIG, type KsiConfig } from '../../config/config';
import { CompletionNotifier } from './completion-notifier';
import { CompletionRepository } from './completion.repository';
import type { UsageWindowRow } from './usage-window.entity';
import { UsageWindowRepository } from './usage-window.repository';

/** After a window ends, how its parked requests start: one at a time, `stagger` apart, until `left` have. */
interface Resumption {
  nextStart: number;
  left: number;
}

/**
 * Usage windows: when an attempt hits a usage limit that names its reset, every queued request of the
 * same account waits for that reset (parked: not started, no attempt counted) instead of each failing
 * and backing off on its own. The scheduler leaves parked requests alone (the queue query skips their
 * account while its window is open); at the reset they start in priority order, KSI_RESUME_STAGGER_MS
 * apart, so the fleet does not hit the limit again all at once. Windows are rows: a restart keeps them.
 */
@Injectable()
export class UsageWindows implements OnModuleInit {
  private readonly windows = new Map<string, UsageWindowRow>();
  private readonly resuming = new Map<string, Resumption>();

  constructor(
    @Inject(KSI_CONFIG) private readonly config: KsiConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly rows: UsageWindowRepository,
    private readonly requests: CompletionRepository,
    private readonly notifier: CompletionNotifier,
  ) {}

  async onModuleInit(): Promise<void> {
    for (const window of await this.rows.all()) this.windows.set(window.account, window);
  }

  /**
   * The account is parked until the window's reset (a later reset of an open window wins), and its
   * queued requests hear it. Opened while the attempt that hit the limit is still processing: its own
   * retry (or failure) is told apart.
   */
  async open(window: UsageWindowRow): Promise<void> {
    const open = this.windows.get(window.account);
    if (open && open.pausedUntil >= window.pausedUntil) return;
    await this.rows.save(window);
    this.windows.set(window.account, window);
    this.resuming.delete(window.account);
    for (const queued of await this.requests.queuedOf(window.account)) this.announce(queued, window);
  }

  /** A request accepted while its account is parked hears so. */
  parkedOnArrival(request: { requestId: string; sessionId: string | null; account: string }): void {
    const window = this.windows.get(request.account);
    if (window && window.pausedUntil > this.clock.now()) this.announce({ ...request, attempts: 0 }, window);
  }

  /** Closes the windows whose reset has come: their accounts' queued requests resume, staggered. */
  async closeEnded(now: number): Promise<void> {
    for (const window of [...this.windows.values()]) {
      if (window.pausedUntil > now) continue;
      await this.rows.delete(window.account);
      this.windows.delete(window.account);
      const parked = (await this.requests.queuedByAccount()).get(window.account) ?? 0;
      if (parked > 0 && this.config.resumeStaggerMs > 0) this.resuming.set(window.account, { nextStart: now, left: parked });
    }
  }

  /** Whether a request of this account may start now (the stagger after a window allows one at a time); counts the start. */
  takeStart(account: string, now: number): boolean {
    const resumption = this.resuming.get(account);
    if (!resumption) return true;
    if (now < resumption.nextStart) return false;
    resumption.left--;
    resumption.nextStart = now + this.config.resumeStaggerMs;
    if (resumption.left <= 0) this.resuming.delete(account);
    return true;
  }

  /** The next time the queue must be looked at for a window: a reset, or the next staggered start. */
  nextChange(): number | null {
    const times = [...[...this.windows.values()].map((window) => window.pausedUntil), ...[...this.resuming.values()].map((resumption) => resumption.nextStart)];
    return times.length > 0 ? Math.min(...times) : null;
  }

  /** The windows still open. */
  current(): UsageWindow[] {
    const now = this.clock.now();
    return [...this.windows.values()]
      .filter((window) => window.pausedUntil > now)
      .map((window) => ({ account: window.account, paused_until: window.pausedUntil / 1000, reason: window.reason, request_id: window.requestId }));
  }

  private announce(request: { requestId: string; sessionId: string | null; attempts: number }, window: UsageWindowRow): void {
    this.notifier.notify(completionProgress, {
      request_id: request.requestId,
      session_id: request.sessionId,
      attempt: request.attempts,
      status: 'parked',
      paused_until: window.pausedUntil / 1000,
      account: window.account,
      reason: window.reason,
    });
  }
}
