import { Injectable } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import type { CorrelationScope } from '../../events/correlation';
import type { ClientConnection } from '../../events/event-context';

/** Why an attempt was stopped: a cancel ends the request, a shutdown hands it back, a lost lease writes nothing. */
export type AbortReason = 'cancel' | 'shutdown' | 'lease_lost';

interface Run {
  abort: AbortController;
  /** The epoch of the lease the attempt runs under. */
  epoch: number;
  /** The node that accepted the request, where its requester and listeners are. */
  acceptedBy: string | null;
  /** Settles once the attempt's row is written, so a cancel or a stop waits for that attempt only. */
  done: Promise<void>;
  /** Its process has ended and what it spent is queued to be written: its slot is free while the row is written. */
  slotFree: boolean;
}

/**
 * What this daemon holds in memory about the requests it accepted (the rows hold everything else):
 * who asked, the event each request was accepted in, the attempts running now, and the attempts a
 * stop interrupted. Nothing else keeps per-request state.
 */
@Injectable()
export class LiveRequests {
  private readonly requesters = new Map<string, ClientConnection>();
  /** The event each request was accepted in, so its progress and result join that causal tree. */
  private readonly causes = new Map<string, CorrelationScope>();
  private readonly runs = new Map<string, Run>();
  /** Requests accepted by this run of the daemon whose last push has not gone out. */
  private readonly open = new Set<string>();
  /** Requests whose last push went out lately: a late or caught-up copy of it is not delivered again. */
  private readonly ended = new LRUCache<string, true>({ max: 10_000 });
  /** Requests whose attempt this stop interrupted; the checkpoint lists them as processing. */
  private readonly interrupted = new Set<string>();

  accepted(requestId: string, connection: ClientConnection | undefined, cause: CorrelationScope | undefined): void {
    this.open.add(requestId);
    if (connection) this.requesters.set(requestId, connection);
    if (cause) this.causes.set(requestId, cause);
  }

  /**
   * A connection asks again for a request accepted before (its requester repeating itself): the
   * request's pushes go there from now on. False when its last push went out already.
   */
  reattached(requestId: string, connection: ClientConnection | undefined): boolean {
    if (this.ended.has(requestId)) return false;
    this.open.add(requestId);
    if (connection) this.requesters.set(requestId, connection);
    return true;
  }

  requesterOf(requestId: string): ClientConnection | undefined {
    return this.requesters.get(requestId);
  }

  /** The connection is gone: later pushes of the request go nowhere. */
  dropRequester(requestId: string): void {
    this.requesters.delete(requestId);
  }

  /** The request's last push went out; its cause is kept until the listeners raised with it have started. */
  finished(requestId: string): void {
    this.open.delete(requestId);
    this.ended.set(requestId, true);
    this.requesters.delete(requestId);
    setImmediate(() => this.causes.delete(requestId));
  }

  /**
   * The scope an attempt runs in: the accepting event's (`stored` with the request when another node,
   * or this one before a restart, accepted it), else one named for the request.
   */
  causeOf(requestId: string, stored: string | null = null): CorrelationScope {
    return this.causes.get(requestId) ?? (stored ? (JSON.parse(stored) as CorrelationScope) : { correlationId: requestId, eventId: requestId });
  }

  hasEnded(requestId: string): boolean {
    return this.ended.has(requestId);
  }

  /** Requests accepted here, not running here, whose last push has not arrived: another node runs them, or ran them. */
  awaitedElsewhere(): string[] {
    return [...this.open].filter((requestId) => !this.runs.has(requestId));
  }

  /**
   * Runs an attempt of the request under its lease; the request counts as running until the attempt
   * settles, and takes one of the node's slots until then or until it frees it (`freeSlot`).
   */
  run(row: { requestId: string; leaseEpoch: number; acceptedBy: string | null }, attempt: (abort: AbortController) => Promise<void>): Promise<void> {
    const run: Run = { abort: new AbortController(), done: Promise.resolve(), epoch: row.leaseEpoch, acceptedBy: row.acceptedBy, slotFree: false };
    this.runs.set(row.requestId, run);
    // Only this run's entry: the scheduler never starts a request that runs, but a later run must not lose its entry to this one.
    run.done = attempt(run.abort).finally(() => this.runs.get(row.requestId) === run && this.runs.delete(row.requestId));
    return run.done;
  }

  /** The attempt's process has ended: another attempt may start while this one's row is written. */
  freeSlot(requestId: string): void {
    const run = this.runs.get(requestId);
    if (run) run.slotFree = true;
  }

  /** The lease epoch of each running attempt. */
  leases(): Map<string, number> {
    return new Map([...this.runs].map(([requestId, run]) => [requestId, run.epoch]));
  }

  /** The node that accepted a request running here; undefined when none runs here. */
  acceptorOf(requestId: string): string | null | undefined {
    return this.runs.get(requestId)?.acceptedBy;
  }

  isRunning(requestId: string): boolean {
    return this.runs.has(requestId);
  }

  /** Attempts holding a slot: their process runs, or is about to. */
  get runningCount(): number {
    let holding = 0;
    for (const run of this.runs.values()) if (!run.slotFree) holding++;
    return holding;
  }

  /** Aborts the request's running attempt and waits for it to end; false when none runs. */
  async abortRun(requestId: string, reason: Exclude<AbortReason, 'shutdown'>): Promise<boolean> {
    const run = this.runs.get(requestId);
    if (!run) return false;
    run.abort.abort(reason);
    await run.done;
    return true;
  }

  /** Aborts every running attempt and waits for all of them to end. */
  async abortAll(reason: 'shutdown'): Promise<void> {
    const runs = [...this.runs.values()];
    for (const run of runs) run.abort.abort(reason);
    await Promise.allSettled(runs.map((run) => run.done));
  }

  markInterrupted(requestId: string): void {
    this.interrupted.add(requestId);
  }

  wasInterrupted(requestId: string): boolean {
    return this.interrupted.has(requestId);
  }
}
