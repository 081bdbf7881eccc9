import { Inject, Injectable } from '@nestjs/common';
import { systemReady } from '../../../libs/client/src';
import { CLOCK, type Clock } from '../../common/clock';
import { KSI_CONFIG, type KsiConfig } from '../../config/config';
import { correlationStorage } from '../../events/correlation';
import { Listens } from '../../events/handles.decorator';
import { ShutdownHandler } from '../../lifecycle/shutdown-handler.decorator';
import { AttemptRunner } from './attempt-runner';
import { CompletionRepository, type RequestRow } from './completion.repository';
import { CrashRecovery } from './crash-recovery';
import { LiveRequests } from './live-requests';

/**
 * When attempts start: one request at a time per queue key, at most KSI_MAX_CONCURRENT at once, a
 * retry once its backoff ends. Work starts when the daemon is ready and stops with it.
 */
@Injectable()
export class CompletionScheduler {
  private started = false;
  private stopping = false;
  private pumpScheduled = false;
  private wakeTimer?: NodeJS.Timeout;

  constructor(
    @Inject(KSI_CONFIG) private readonly config: KsiConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly repo: CompletionRepository,
    private readonly live: LiveRequests,
    private readonly runner: AttemptRunner,
    private readonly recovery: CrashRecovery,
  ) {}

  /** Work starts once the daemon is ready, so agents' MCP servers can reach the socket. */
  @Listens(systemReady)
  async start(): Promise<void> {
    if (this.started) return;
    await this.recovery.requeueInterrupted();
    this.started = true;
    this.wake();
  }

  /** Running attempts are stopped (process groups killed) and go back to the queue for the next start. */
  @ShutdownHandler('completion')
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.wakeTimer);
    await this.live.abortAll('shutdown');
  }

  /** Started and not stopping: attempts may start. */
  get ready(): boolean {
    return this.started && !this.stopping;
  }

  /** Looks for attempts to start, once the current event has run (several wakes make one look). */
  wake(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    if (!this.ready) return;
    const now = this.clock.now();
    const running = this.live.runningCount;
    const free = this.config.maxConcurrent - running;
    if (free > 0) {
      const rows = this.repo.runnable(now, free + running).filter((row) => !this.live.isRunning(row.request_id));
      for (const row of rows.slice(0, free)) this.launch(row);
    }
    this.armWakeTimer(now);
  }

  /**
   * Wakes the pump when the earliest backoff of a queue head ends. Due rows that wait for the
   * concurrency limit or behind a running head are pumped when an attempt ends, not by this timer.
   * `now` is the pump's own: a backoff ending between its query and this one still gets its timer.
   */
  private armWakeTimer(now: number): void {
    clearTimeout(this.wakeTimer);
    const next = this.repo.nextWake(now);
    if (next === null) return;
    const delay = Math.max(0, next - this.clock.now());
    this.wakeTimer = setTimeout(() => this.wake(), Math.min(delay, 2 ** 31 - 1)).unref();
  }

  /** The attempt runs in the scope of the event that accepted its request; whatever ends it, the queue moves on. */
  private launch(row: RequestRow): void {
    void this.live
      .run(row.request_id, (abort) =>
        correlationStorage
          .run(this.live.causeOf(row.request_id), () => this.runner.run(row, abort))
          .catch((error: Error) => this.runner.endUnexpected(row, abort.signal, error)),
      )
      .finally(() => this.wake());
  }
}
