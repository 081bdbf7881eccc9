import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Database, Statement } from 'better-sqlite3';
import type { getEventsParams, LoggedEvent, z } from '../../../libs/client/src';
import { CLOCK, type Clock } from '../../common/clock';
import { KSI_CONFIG, type KsiConfig } from '../../config/config';
import { SQLITE } from '../../database/sqlite.provider';
import { WriteQueue } from '../../database/write-queue';
import { EventTap, type EventRecord } from '../../events/event-tap';
import { ShutdownHandler } from '../../lifecycle/shutdown-handler.decorator';
import { redactSecrets } from './redact';

/** Events kept in memory for stats and fast reads. */
const RING_SIZE = 10_000;
/** Recorded events are written in batches: at this many, or after this long. */
const BATCH_SIZE = 500;
const BATCH_MS = 500;
const HOUR_MS = 3_600_000;
/** Rows per INSERT statement: one statement for many rows costs far less per row than one each. */
const ROWS_PER_INSERT = 50;
const COLUMNS = ['event_id', 'parent_id', 'correlation_id', 'event_name', 'timestamp', 'client_id', 'agent_id', 'session_id', 'source', 'outcome', 'duration_ms', 'data'] as const;

/** A LoggedEvent as stored: data is JSON text. */
type Row = Omit<LoggedEvent, 'data'> & { data: string };

/**
 * Every request and every internal event: a ring in memory and rows in SQLite written in batches,
 * off the reply path, with retention (KSI_EVENT_RETENTION_DAYS). KSI_EVENT_LOG=off turns it off.
 */
@Injectable()
export class EventLogService implements OnModuleInit, OnApplicationShutdown {
  private readonly ring: EventRecord[] = [];
  private ringNext = 0;
  private pending: EventRecord[] = [];
  private flushTimer?: NodeJS.Timeout;
  private retentionTimer?: NodeJS.Timeout;
  private readonly startedAt: number;
  private readonly inserts = new Map<number, Statement>();

  constructor(
    @Inject(KSI_CONFIG) private readonly config: KsiConfig,
    @Inject(SQLITE) private readonly db: Database,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly writes: WriteQueue,
    private readonly tap: EventTap,
  ) {
    this.startedAt = clock.now();
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

  onApplicationShutdown(): void {
    clearInterval(this.retentionTimer);
    clearTimeout(this.flushTimer);
  }

  /** What was recorded before the stop is written before the database closes. */
  @ShutdownHandler('event_log')
  async stop(): Promise<void> {
    await this.flush();
  }

  async query(filters: z.output<typeof getEventsParams>): Promise<LoggedEvent[]> {
    await this.flush();
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
    const sql = `SELECT * FROM event_log ${clauses.length ? `WHERE ${clauses.join(' AND ')}` : ''} ORDER BY id ${filters.reverse ? 'DESC' : 'ASC'} LIMIT ?`;
    return (this.db.prepare(sql).all(...params, filters.limit) as Row[]).map(toEvent);
  }

  /** Events of one correlation id, in the order they happened. */
  async chain(correlationId: string): Promise<LoggedEvent[]> {
    await this.flush();
    return (this.db.prepare('SELECT * FROM event_log WHERE correlation_id = ? ORDER BY id').all(correlationId) as Row[]).map(toEvent);
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
      if (event.duration_ms !== undefined) durations.set(event.event_name, [...(durations.get(event.event_name) ?? []), event.duration_ms]);
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
    };
  }

  correlationStats(): { total_correlations: number; total_events: number; oldest_event: number | null } {
    const row = this.db.prepare('SELECT COUNT(DISTINCT correlation_id) AS correlations, COUNT(*) AS events, MIN(timestamp) AS oldest FROM event_log').get() as {
      correlations: number;
      events: number;
      oldest: number | null;
    };
    return { total_correlations: row.correlations, total_events: row.events + this.pending.length, oldest_event: row.oldest };
  }

  async clear(): Promise<number> {
    this.pending = [];
    this.ring.length = 0;
    this.ringNext = 0;
    return this.writes.run((db) => db.prepare('DELETE FROM event_log').run().changes);
  }

  /** Removes rows older than `hours`; returns how many. */
  async removeOlderThan(hours: number): Promise<number> {
    await this.flush();
    const cutoff = this.clock.now() / 1000 - hours * 3600;
    return this.writes.run((db) => db.prepare('DELETE FROM event_log WHERE timestamp < ?').run(cutoff).changes);
  }

  private add(record: EventRecord): void {
    this.ring[this.ringNext] = record;
    this.ringNext = (this.ringNext + 1) % RING_SIZE;
    this.pending.push(record);
    if (this.pending.length >= BATCH_SIZE) void this.flush();
    else this.flushTimer ??= setTimeout(() => void this.flush(), BATCH_MS).unref();
  }

  private recent(): EventRecord[] {
    return this.ring.length < RING_SIZE ? [...this.ring] : [...this.ring.slice(this.ringNext), ...this.ring.slice(0, this.ringNext)];
  }

  private async flush(): Promise<void> {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    const values = batch.map(toValues);
    await this.writes.run(() => {
      for (let start = 0; start < values.length; start += ROWS_PER_INSERT) {
        const chunk = values.slice(start, start + ROWS_PER_INSERT);
        this.insertFor(chunk.length).run(chunk.flat());
      }
    });
  }

  private insertFor(rows: number): Statement {
    let statement = this.inserts.get(rows);
    if (!statement) {
      const placeholders = `(${COLUMNS.map(() => '?').join(', ')})`;
      statement = this.db.prepare(`INSERT INTO event_log (${COLUMNS.join(', ')}) VALUES ${Array.from({ length: rows }, () => placeholders).join(', ')}`);
      this.inserts.set(rows, statement);
    }
    return statement;
  }

  private async applyRetention(): Promise<void> {
    await this.removeOlderThan(this.config.eventRetentionDays * 24).catch(() => undefined);
  }
}

function toValues(record: EventRecord): unknown[] {
  const row = toRow(record);
  return COLUMNS.map((column) => row[column]);
}

function toRow(record: EventRecord): Row {
  const data = record.data as { session_id?: unknown } | undefined;
  let json: string;
  try {
    json = JSON.stringify(record.data ?? null, redactSecrets);
  } catch {
    json = '"(not serialisable)"';
  }
  return {
    event_id: record.event_id,
    parent_id: record.parent_id ?? null,
    correlation_id: record.correlation_id === null || record.correlation_id === undefined ? null : String(record.correlation_id),
    event_name: record.event_name,
    timestamp: record.timestamp,
    client_id: record.client_id ?? null,
    agent_id: record.agent_id ?? null,
    session_id: typeof data?.session_id === 'string' ? data.session_id : null,
    source: record.source,
    outcome: record.outcome ?? null,
    duration_ms: record.duration_ms ?? null,
    data: json,
  };
}

function toEvent(row: Row): LoggedEvent {
  return { ...row, data: JSON.parse(row.data) as unknown };
}
