import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Logger } from 'pino';
import { CLOCK, type Clock } from '../../common/clock';
import { KSI_CONFIG, type KsiConfig } from '../../config/config';
import { EventTap, type EventRecord } from '../../events/event-tap';
import { ShutdownHandler } from '../../lifecycle/shutdown-handler.decorator';
import { DAEMON_LOG } from '../../logging/logger';
import { EventLogBuffer, type Batch } from './event-log.buffer';
import { EVENT_META } from './event-log.entity';
import { ROWS_PER_BATCH } from './event-log.protocol';
import { RecentEvents } from './event-log.recent';
import { EventLogRepository } from './event-log.repository';
import { toRecordedJson } from './redact';

/** Recorded events are written in batches: at ROWS_PER_BATCH rows or this many bytes, or after this long. */
const BATCH_BYTES = 1024 * 1024;
const BATCH_MS = 500;
/** Batches being written; more wait (and, once the buffer is full, are dropped). */
const MAX_BATCHES_IN_FLIGHT = 4;
/** A session id is a UUID; anything much longer is not indexed as one (it stays in the data). */
const MAX_SESSION_ID_CHARS = 256;

/**
 * Records every request and every internal event: a sample in memory for the stats, and a row
 * buffered and written in batches, off the reply path (on SQLite by the repository's writer thread,
 * off the daemon's thread). KSI_EVENT_LOG=off turns it off.
 */
@Injectable()
export class EventLogRecorder implements OnModuleInit, BeforeApplicationShutdown, OnApplicationShutdown {
  readonly recent: RecentEvents;
  private readonly buffer: EventLogBuffer;
  /** Recorded events the writer failed to write. */
  private lostEvents = 0;
  private flushTimer?: NodeJS.Timeout;

  constructor(
    @Inject(KSI_CONFIG) private readonly config: KsiConfig,
    @Inject(CLOCK) clock: Clock,
    @Inject(DAEMON_LOG) private readonly log: Logger,
    private readonly tap: EventTap,
    private readonly events: EventLogRepository,
  ) {
    this.recent = new RecentEvents(clock.now());
    this.buffer = new EventLogBuffer({ maxBytes: config.eventLogBufferBytes, batchRows: ROWS_PER_BATCH, batchBytes: BATCH_BYTES, maxBatchesInFlight: MAX_BATCHES_IN_FLIGHT });
  }

  onModuleInit(): void {
    if (this.config.eventLog) this.tap.observe((record) => this.add(record));
  }

  /** What was recorded before the stop is written before the checkpoint. */
  @ShutdownHandler('event_log')
  async stop(): Promise<void> {
    await this.flush({ now: true });
  }

  /** The events of the shutdown itself, then the writer closes, before the database does. */
  async beforeApplicationShutdown(): Promise<void> {
    // Writing a batch can record more events (a client still connected); write until none is left.
    while (this.buffer.waiting > 0) await this.flush({ now: true }).catch((error: Error) => this.log.error({ err: error.message }, 'event log: last events not written'));
    await this.events.close();
  }

  onApplicationShutdown(): void {
    clearTimeout(this.flushTimer);
  }

  /** Events refused because the buffer was full. */
  get dropped(): number {
    return this.buffer.dropped;
  }

  get lost(): number {
    return this.lostEvents;
  }

  /** Recorded and not yet sent to the writer. */
  get unwritten(): number {
    return this.buffer.waiting;
  }

  /** Every event recorded so far is committed (unless the writer is failing): reads see what happened before them. */
  async caughtUp(): Promise<void> {
    await this.flush().catch((error: Error) => this.log.error({ err: error.message }, 'event log: events not written'));
    await this.events.writesSettled();
  }

  /** Rows being written when it is asked are deleted too: the writer works in order. Returns how many events went. */
  async clear(): Promise<number> {
    const unwritten = this.buffer.discardWaiting();
    this.recent.clear();
    return unwritten + (await this.events.deleteAll());
  }

  private add(record: EventRecord): void {
    this.recent.add(record);
    if (this.events.closed) return;
    if (this.buffer.add(record.timestamp, metaOf(record, this.config.node.clustered ? this.config.node.id : undefined), dataOf(record, this.config.eventDataMaxBytes))) this.scheduleFlush();
  }

  /** A full batch goes now (unless enough are in flight: it goes when one comes back); a partial one after BATCH_MS. */
  private scheduleFlush(): void {
    if (this.buffer.batchReady) this.flushInBackground();
    else if (this.buffer.waiting > 0) this.flushTimer ??= setTimeout(() => this.flushInBackground(), BATCH_MS).unref();
  }

  private flushInBackground(): void {
    this.flush().catch((error: Error) => this.log.error({ err: error.message }, 'event log: events not written'));
  }

  /** `now`: even while a failed writer waits to be restarted (at shutdown). */
  private async flush({ now = false } = {}): Promise<void> {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.buffer.waiting === 0) return;
    // While a failed writer waits to be restarted the rows stay buffered (and the buffer's bound holds).
    const wait = now ? 0 : this.events.restartWaitMs();
    if (wait > 0) {
      this.flushTimer = setTimeout(() => this.flushInBackground(), wait).unref();
      return;
    }
    const batch = this.buffer.take() as Batch;
    try {
      await this.events.insert(batch.rows);
    } catch (error) {
      this.lostEvents += batch.count;
      throw error;
    } finally {
      this.buffer.settled(batch);
      this.scheduleFlush();
    }
  }
}

/**
 * The EVENT_META values, in order, then (on a shared database only: each byte costs on this hot path)
 * the node that recorded the event, read by other nodes' monitors (see EventLogTail).
 */
function metaOf(record: EventRecord, nodeId: string | undefined): string {
  const sessionId = (record.data as { session_id?: unknown } | undefined)?.session_id;
  const correlationId = record.correlation_id === null || record.correlation_id === undefined ? null : String(record.correlation_id);
  const values = [
    record.event_id,
    record.parent_id ?? null,
    correlationId,
    record.event_name,
    record.client_id ?? null,
    record.agent_id ?? null,
    typeof sessionId === 'string' && sessionId.length <= MAX_SESSION_ID_CHARS ? sessionId : null,
    record.source,
    record.outcome ?? null,
    record.duration_ms ?? null,
  ] satisfies unknown[] & { length: typeof EVENT_META.length };
  return JSON.stringify(nodeId === undefined ? values : [...values, nodeId]);
}

function dataOf(record: EventRecord, maxBytes: number): string {
  try {
    return toRecordedJson(record.data ?? null, maxBytes);
  } catch {
    return '"(not serialisable)"';
  }
}
