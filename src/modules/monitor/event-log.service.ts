import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Database } from 'better-sqlite3';
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { getEventsParams, LoggedEvent, z } from '../../../libs/client/src';
import { CLOCK, type Clock } from '../../common/clock';
import { KSI_CONFIG, type KsiConfig } from '../../config/config';
import { SQLITE } from '../../database/sqlite.provider';
import { WriteLock } from '../../database/write-lock';
import { EventTap, type EventRecord } from '../../events/event-tap';
import { ShutdownHandler } from '../../lifecycle/shutdown-handler.decorator';
import { DAEMON_LOG } from '../../logging/logger';
import { EventLogBuffer, type Batch } from './event-log.buffer';
import { EVENT_META } from './event-log.entity';
import type { WriterOptions, WriterReply, WriterRequest } from './event-log.protocol';
import { toRecordedJson, truncationMarker } from './redact';
import { RestartBackoff } from './restart-backoff';

/** The latest events' names, outcomes and durations, kept in memory for the stats (their data is not kept). */
const RING_SIZE = 10_000;
/** Recorded events are written in batches: at this many or this many bytes, or after this long. */
const BATCH_SIZE = 500;
const BATCH_BYTES = 1024 * 1024;
const BATCH_MS = 500;
/** Batches sent to the writer and not answered yet; more wait (and, once the buffer is full, are dropped). */
const MAX_BATCHES_IN_FLIGHT = 4;
/** A writer that died is started again after 100 ms, then twice as long after each further failure. */
const WRITER_RESTART_INITIAL_MS = 100;
const WRITER_RESTART_MAX_MS = 30_000;
const HOUR_MS = 3_600_000;
/** The compiled writer thread; it runs compiled code only (the daemon runs from dist/). */
const WRITER_FILE = path.join(__dirname, 'event-log.writer.js');
const SELECTED = `${EVENT_META.join(', ')}, timestamp, data`;

/** A LoggedEvent as stored: data is JSON text. */
type Row = Omit<LoggedEvent, 'data'> & { data: string };

/** What the stats need of an event. */
type Sample = Pick<EventRecord, 'event_name' | 'timestamp' | 'source' | 'outcome' | 'duration_ms'>;

/** Events read for one reply; `truncated` when more matched than the reply's byte budget holds. */
export interface EventPage {
  events: LoggedEvent[];
  truncated: boolean;
}

type WriterCall = { [Op in WriterRequest['op']]: Omit<Extract<WriterRequest, { op: Op }>, 'id'> }[WriterRequest['op']];

/**
 * Every request and every internal event: a ring in memory and rows in SQLite written in batches by
 * a writer thread (event-log.writer.ts), off the reply path and off the daemon's thread, with
 * retention (KSI_EVENT_RETENTION_DAYS). Reads use the daemon's own connection. KSI_EVENT_LOG=off
 * turns it off.
 */
@Injectable()
export class EventLogService implements OnModuleInit, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly ring: Sample[] = [];
  private ringNext = 0;
  private readonly buffer: EventLogBuffer;
  /** Recorded events the writer failed to write. */
  private lost = 0;
  private readonly restarts = new RestartBackoff(WRITER_RESTART_INITIAL_MS, WRITER_RESTART_MAX_MS);
  private flushTimer?: NodeJS.Timeout;
  private retentionTimer?: NodeJS.Timeout;
  private readonly startedAt: number;
  private writer?: Worker;
  private readonly waiting = new Map<number, { resolve: (changes: number) => void; reject: (error: Error) => void }>();
  private lastRequest = 0;
  /** Settles when the writer has handled everything sent so far (it works in order). */
  private lastSent: Promise<unknown> = Promise.resolve();
  /** Set once the writer closed for good: later events stay in the ring only. */
  private closed = false;

  constructor(
    @Inject(KSI_CONFIG) private readonly config: KsiConfig,
    @Inject(SQLITE) private readonly db: Database,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(DAEMON_LOG) private readonly log: Logger,
    private readonly lock: WriteLock,
    private readonly tap: EventTap,
  ) {
    this.startedAt = clock.now();
    this.buffer = new EventLogBuffer({ maxBytes: config.eventLogBufferBytes, batchRows: BATCH_SIZE, batchBytes: BATCH_BYTES, maxBatchesInFlight: MAX_BATCHES_IN_FLIGHT });
  }

  get enabled(): boolean {
    return this.config.eventLog;
  }

  onModuleInit(): void {
    if (!this.enabled) return;
    this.tap.observe((record) => this.add(record));
    void this.applyRetention();
    this.retentionTimer = setInterval(() => void this.applyRetention(), HOUR_MS).unref();
  }

  /** What was recorded before the stop is written before the checkpoint. */
  @ShutdownHandler('event_log')
  async stop(): Promise<void> {
    await this.flush({ now: true });
  }

  /** The events of the shutdown itself, then the writer closes, before the database does. */
  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.retentionTimer);
    // Writing a batch can record more events (a client still connected); write until none is left.
    while (this.buffer.waiting > 0) await this.flush({ now: true }).catch((error: Error) => this.log.error({ err: error.message }, 'event log: last events not written'));
    const writer = this.writer;
    const closing = writer && this.call({ op: 'close' });
    this.closed = true;
    if (!writer || !closing) return;
    const exited = new Promise((resolve) => writer.once('exit', resolve));
    await closing.catch(() => writer.terminate());
    await exited;
  }

  onApplicationShutdown(): void {
    clearTimeout(this.flushTimer);
    void this.writer?.terminate();
  }

  async query(filters: z.output<typeof getEventsParams>): Promise<EventPage> {
    await this.caughtUp();
    const patterns = filters.patterns ?? filters.event_patterns ?? [];
    const clauses: string[] = [];
    const params: unknown[] = [];
    if (patterns.length > 0) {
      clauses.push(`(${patterns.map(() => 'event_name GLOB ?').join(' OR ')})`);
      params.push(...patterns);
    }
    const range = [
      ['since', '>='],
      ['until', '<='],
    ] as const;
    for (const [key, op] of range) {
      const value = filters[key];
      if (value !== undefined) {
        clauses.push(`timestamp ${op} ?`);
        params.push(typeof value === 'number' ? value : Date.parse(value) / 1000);
      }
    }
    for (const key of ['client_id', 'session_id', 'correlation_id'] as const) {
      if (filters[key] !== undefined) {
        clauses.push(`${key} = ?`);
        params.push(filters[key]);
      }
    }
    const sql = `SELECT ${SELECTED} FROM event_log ${clauses.length ? `WHERE ${clauses.join(' AND ')}` : ''} ORDER BY id ${filters.reverse ? 'DESC' : 'ASC'} LIMIT ?`;
    return this.page(sql, [...params, filters.limit]);
  }

  /** Events of one correlation id, in the order they happened. */
  async chain(correlationId: string): Promise<EventPage> {
    await this.caughtUp();
    return this.page(`SELECT ${SELECTED} FROM event_log WHERE correlation_id = ? ORDER BY id`, [correlationId]);
  }

  /** Rows read one at a time until the reply's budget (KSI_MONITOR_REPLY_BYTES) is spent: a reply is never built whole. */
  private page(sql: string, params: unknown[]): EventPage {
    const events: LoggedEvent[] = [];
    let bytes = 0;
    for (const row of this.db.prepare(sql).iterate(...params) as IterableIterator<Row>) {
      // Rows recorded before data was bounded can be larger than the limit.
      if (row.data.length > this.config.eventDataMaxBytes) row.data = truncationMarker(row.data);
      bytes += row.data.length + ROW_FIELDS_BYTES;
      if (bytes > this.config.monitorReplyBytes) return { events, truncated: true };
      events.push(toEvent(row));
    }
    return { events, truncated: false };
  }

  stats(): Record<string, unknown> {
    const events = this.recent();
    const now = this.clock.now() / 1000;
    const lastMinute = events.filter((event) => event.timestamp >= now - 60).length;
    const byNamespace: Record<string, number> = {};
    const durations = new Map<string, number[]>();
    let external = 0;
    let failed = 0;
    for (const event of events) {
      const namespace = event.event_name.split(':')[0];
      byNamespace[namespace] = (byNamespace[namespace] ?? 0) + 1;
      if (event.source !== 'external') continue;
      external++;
      if (event.outcome !== 'ok') failed++;
      if (event.duration_ms === undefined) continue;
      const list = durations.get(event.event_name);
      if (list) list.push(event.duration_ms);
      else durations.set(event.event_name, [event.duration_ms]);
    }
    const latency = Object.fromEntries(
      [...durations].map(([name, values]) => {
        values.sort((a, b) => a - b);
        return [name, { count: values.length, p50_ms: values[Math.floor(values.length * 0.5)], p99_ms: values[Math.floor(values.length * 0.99)] }];
      }),
    );
    return {
      enabled: this.enabled,
      total_events: this.db.prepare('SELECT COUNT(*) FROM event_log').pluck().get() as number,
      in_memory: events.length,
      events_per_second: lastMinute / Math.min(60, Math.max(1, (this.clock.now() - this.startedAt) / 1000)),
      by_namespace: byNamespace,
      error_rate: external === 0 ? 0 : failed / external,
      latency,
      dropped_events: this.buffer.dropped,
      lost_events: this.lost,
    };
  }

  correlationStats(): { total_correlations: number; total_events: number; oldest_event: number | null } {
    const row = this.db.prepare('SELECT COUNT(DISTINCT correlation_id) AS correlations, COUNT(*) AS events, MIN(timestamp) AS oldest FROM event_log').get() as {
      correlations: number;
      events: number;
      oldest: number | null;
    };
    return { total_correlations: row.correlations, total_events: row.events + this.buffer.waiting, oldest_event: row.oldest };
  }

  /** Rows being written when it is asked are deleted too: the writer works in order. Returns how many events went. */
  async clear(): Promise<number> {
    const unwritten = this.buffer.discardWaiting();
    this.ring.length = 0;
    this.ringNext = 0;
    return unwritten + (await this.call({ op: 'delete_all' }));
  }

  /** Removes rows older than `hours`; returns how many. */
  async removeOlderThan(hours: number): Promise<number> {
    return this.call({ op: 'delete_before', cutoff: this.clock.now() / 1000 - hours * 3600 });
  }

  private add(record: EventRecord): void {
    const { event_name, timestamp, source, outcome, duration_ms } = record;
    this.ring[this.ringNext] = { event_name, timestamp, source, outcome, duration_ms };
    this.ringNext = (this.ringNext + 1) % RING_SIZE;
    if (this.closed) return;
    if (this.buffer.add(timestamp, metaOf(record), dataOf(record, this.config.eventDataMaxBytes))) this.scheduleFlush();
  }

  /** A full batch goes now (unless enough are in flight: it goes when one comes back); a partial one after BATCH_MS. */
  private scheduleFlush(): void {
    if (this.buffer.batchReady) this.flushInBackground();
    else if (this.buffer.waiting > 0) this.flushTimer ??= setTimeout(() => this.flushInBackground(), BATCH_MS).unref();
  }

  /** Every event recorded so far is committed (unless the writer is failing): reads see what happened before them. */
  private async caughtUp(): Promise<void> {
    await this.flush().catch((error: Error) => this.log.error({ err: error.message }, 'event log: events not written'));
    await this.lastSent;
  }

  private flushInBackground(): void {
    this.flush().catch((error: Error) => this.log.error({ err: error.message }, 'event log: events not written'));
  }

  private recent(): Sample[] {
    return this.ring.length < RING_SIZE ? [...this.ring] : [...this.ring.slice(this.ringNext), ...this.ring.slice(0, this.ringNext)];
  }

  /** `now`: even while a failed writer waits to be restarted (at shutdown). */
  private async flush({ now = false } = {}): Promise<void> {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    if (this.buffer.waiting === 0) return;
    // While a failed writer waits to be restarted the rows stay buffered (and the buffer's bound holds).
    const wait = this.writer || now ? 0 : this.restarts.waitMs(this.clock.now());
    if (wait > 0) {
      this.flushTimer = setTimeout(() => this.flushInBackground(), wait).unref();
      return;
    }
    const batch = this.buffer.take() as Batch;
    try {
      await this.call({ op: 'insert', rows: batch.rows });
    } catch (error) {
      this.lost += batch.count;
      throw error;
    } finally {
      this.buffer.settled(batch);
      this.scheduleFlush();
    }
  }

  /** Resolves with the rows the writer changed, once its transaction committed. */
  private call(request: WriterCall): Promise<number> {
    if (this.closed) return Promise.reject(new Error('the event log is closed: the daemon is stopping'));
    const writer = (this.writer ??= this.startWriter());
    const id = ++this.lastRequest;
    const reply = new Promise<number>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      writer.postMessage({ ...request, id } satisfies WriterRequest);
    });
    this.lastSent = reply.catch(() => undefined);
    return reply;
  }

  /**
   * Started on first use; if it dies, what it was asked fails and the next call starts another:
   * batches wait for the restart backoff, what an operator asks (clear, cleanup) does not.
   */
  private startWriter(): Worker {
    const options: WriterOptions = { dbPath: this.config.dbPath, lock: this.lock.buffer };
    // A small young generation: the writer's garbage is a batch at a time (V8's default is 16 MB).
    const writer = new Worker(WRITER_FILE, { workerData: options, resourceLimits: { maxYoungGenerationSizeMb: 1 } });
    writer.on('message', (reply: WriterReply) => {
      const waiting = this.waiting.get(reply.id);
      this.waiting.delete(reply.id);
      if ('error' in reply) waiting?.reject(new Error(reply.error));
      else {
        this.restarts.succeeded();
        waiting?.resolve(reply.changes);
      }
    });
    writer.on('error', (error) => this.log.error({ err: error.stack }, 'event log writer failed'));
    writer.on('exit', (code) => {
      if (this.writer === writer) this.writer = undefined;
      if (!this.closed) this.restarts.failed(this.clock.now());
      // A writer that died inside a transaction never released the lock; this thread holds it only synchronously.
      this.lock.releaseAbandoned();
      for (const waiting of this.waiting.values()) waiting.reject(new Error(`the event log writer stopped (exit code ${code})`));
      this.waiting.clear();
    });
    return writer;
  }

  private async applyRetention(): Promise<void> {
    await this.removeOlderThan(this.config.eventRetentionDays * 24).catch(() => undefined);
  }
}

/** A session id is a UUID; anything much longer is not indexed as one (it stays in the data). */
const MAX_SESSION_ID_CHARS = 256;

/** The EVENT_META values, in order. */
function metaOf(record: EventRecord): string {
  const sessionId = (record.data as { session_id?: unknown } | undefined)?.session_id;
  const correlationId = record.correlation_id === null || record.correlation_id === undefined ? null : String(record.correlation_id);
  return JSON.stringify([
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
  ] satisfies unknown[] & { length: typeof EVENT_META.length });
}

function dataOf(record: EventRecord, maxBytes: number): string {
  try {
    return toRecordedJson(record.data ?? null, maxBytes);
  } catch {
    return '"(not serialisable)"';
  }
}

/** Room for an event's fields beside its data in a reply. */
const ROW_FIELDS_BYTES = 1024;

function toEvent(row: Row): LoggedEvent {
  return { ...row, data: JSON.parse(row.data) as unknown };
}
