import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { systemReady } from '../../../libs/client/src';
import { CLOCK, type Clock } from '../../common/clock';
import { KSI_CONFIG, type KsiConfig } from '../../config/config';
import { correlationStorage } from '../../events/correlation';
import { Listens } from '../../events/handles.decorator';
import { ShutdownHandler } from '../../lifecycle/shutdown-handler.decorator';
import { DAEMON_LOG } from '../../logging/logger';
import { AttemptRunner } from './attempt-runner';
import type { CompletionRequest } from './completion-request.entity';
import { CompletionRepository } from './completion.repository';
import { CompletionLeases } from './completion-leases';
import { CrashRecovery } from './crash-recovery';
import { LiveRequests } from './live-requests';
import { UsageWindows } from './usage-windows';

/** How soon the queue is read again after a read failed. */
const RETRY_PUMP_MS = 1_000;

/**
 * When attempts start: one request at a time per queue key, at most KSI_MAX_CONCURRENT at once on
 * this node, a retry once its backoff ends, none of an account a usage window parks (see
 * UsageWindows). Each attempt starts under a lease on its request (see CompletionLeases), so nodes
 * sharing a database never run one queue twice. Work starts when the daemon is ready and stops with it.
 */
@Injectable()
export class CompletionScheduler {
  private started = false;
  private stopping = false;
  private pumpScheduled = false;
  /** The looks for attempts to start, one after another. */
  private pumps: Promise<void> = Promise.resolve();
  private wakeTimer?: NodeJS.Timeout;

  constructor(
    @Inject(KSI_CONFIG) private readonly config: KsiConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(DAEMON_LOG) private readonly log: Logger,
    private readonly repo: CompletionRepository,
    private readonly live: LiveRequests,
    private readonly runner: AttemptRunner,
    private readonly recovery: CrashRecovery,
    private readonly windows: UsageWindows,
    private readonly leases: CompletionLeases,
  ) {}

  /** Work starts once the daemon is ready, so agents' MCP servers can reach the socket. */
  @Listens(systemReady)
  async start(): Promise<void> {
    if (this.started) return;
    await this.recovery.requeueInterrupted();
    this.started = true;
    this.leases.start(() => this.wake());
    this.wake();
  }

  /**
   * Running attempts are stopped (process groups killed): those that answered meanwhile are kept, the
   * others go back to the queue for the next start or another node.
   */
  @ShutdownHandler('completion')
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.wakeTimer);
    // Leases are renewed until the attempts end: a CLI answering within its grace after SIGTERM
    // (longer than a short TTL) keeps its request rather than lose it to a takeover.
    await this.live.abortAll('shutdown');
    this.leases.stop();
    // The requests handed back start on the other nodes now, not when a lease would have ended.
    await this.leases.announceWork();
  }

  /** Started and not stopping: attempts may start. */
  get ready(): boolean {
    return this.started && !this.stopping;
  }

  /**
   * Looks for attempts to start, once the current event has run. Looks run one at a time, so each
   * sees the attempts the one before started; wakes during a look make one more look after it.
   */
  wake(): void {
    this.schedulePump(setImmediate);
  }

  private schedulePump(defer: (look: () => void) => unknown): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    defer(() => {
      this.pumps = this.pumps.then(() => {
        this.pumpScheduled = false;
        return this.pump().catch((error: Error) => this.pumpFailed(error));
      });
    });
  }

  /** A request was accepted or ended: this node looks at the queue, and the others are told to. */
  queueMoved(): void {
    this.wake();
    void this.leases.announceWork();
  }

  private async pump(): Promise<void> {
    if (!this.ready) return;
    const now = this.clock.now();
    await this.windows.closeEnded(now);
    const free = this.config.maxConcurrent - this.live.runningCount;
    if (free > 0) {
      const rows = await this.repo.claim(now, now + this.config.node.leaseTtlMs, free);
      // Another node claimed one of these queues in the same instant: look again.
      if (rows === undefined) return this.wake();
      for (const row of rows) {
        // A stop while the rows were claimed starts nothing more: it has already aborted what runs.
        // A request whose last attempt here is still being written (its lease was lost, and it was
        // queued again) waits for that: its end wakes this pump.
        if (this.ready && !this.live.isRunning(row.requestId) && this.windows.takeStart(row.account, now)) this.launch(row);
        else await this.repo.release(row);
      }
    }
    await this.armWakeTimer(now);
  }

  /** The rows could not be read (the storage is failing): look again in a while rather than leave the queue standing. */
  private pumpFailed(error: Error): void {
    this.log.error({ err: error.message }, `completion queue not read; looking again in ${RETRY_PUMP_MS} ms`);
    clearTimeout(this.wakeTimer);
    if (this.ready) this.wakeTimer = setTimeout(() => this.wake(), RETRY_PUMP_MS).unref();
  }

  /**
   * Wakes the pump when the earliest backoff of a queue head ends, a usage window resets, or the
   * next request it parked may start. Due rows that wait for the
   * concurrency limit or behind a running head are pumped when an attempt ends, not by this timer.
   * `now` is the pump's own: a backoff ending between its query and this one still gets its timer.
   */
  private async armWakeTimer(now: number): Promise<void> {
    const backoffEnd = await this.repo.nextWake(now);
    const windowChange = this.windows.nextChange();
    const next = backoffEnd === null ? windowChange : windowChange === null ? backoffEnd : Math.min(backoffEnd, windowChange);
    clearTimeout(this.wakeTimer);
    if (next === null || !this.ready) return;
    const delay = Math.max(0, next - this.clock.now());
    this.wakeTimer = setTimeout(() => this.wake(), Math.min(delay, 2 ** 31 - 1)).unref();
  }

  /**
   * The attempt runs in the scope of the event that accepted its request. Once its process has ended
   * the next attempt may start while this one's row is written (another queue's: this queue's next
   * waits for the row); whatever ends it, the queue moves on. The freed slot is looked at in the same
   * turn, so the next claim joins the batch that writes the ended attempt's cost and end: one commit.
   */
  private launch(row: CompletionRequest): void {
    const freeSlot = () => {
      this.live.freeSlot(row.requestId);
      this.schedulePump(queueMicrotask);
    };
    void this.live
      .run(row, (abort) =>
        correlationStorage
          .run(this.live.causeOf(row.requestId, row.cause), () => this.runner.run(row, abort, freeSlot))
          .catch((error: Error) => this.runner.endUnexpected(row, abort.signal, error)),
      )
      .finally(() => this.queueMoved());
  }
}
