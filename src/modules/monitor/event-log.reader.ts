import { Inject, Injectable } from '@nestjs/common';
import type { Database } from 'better-sqlite3';
import type { CorrelationStats, EventFilters, EventLogStats, LoggedEvent } from '../../../libs/client/src';
import { CLOCK, type Clock } from '../../common/clock';
import { KSI_CONFIG, type KsiConfig } from '../../config/config';
import { SQLITE } from '../../database/sqlite.provider';
import { EVENT_META } from './event-log.entity';
import { EventLogRecorder } from './event-log.recorder';
import { truncationMarker } from './redact';

const SELECTED = `${EVENT_META.join(', ')}, timestamp, data`;
/** Room for an event's fields beside its data in a reply. */
const ROW_FIELDS_BYTES = 1024;

/** A LoggedEvent as stored: data is JSON text. */
type Row = Omit<LoggedEvent, 'data'> & { data: string };

/** Events read for one reply; `truncated` when more matched than the reply's byte budget holds. */
export interface EventPage {
  events: LoggedEvent[];
  truncated: boolean;
}

/**
 * What clients read of the event log: events by filter or correlation id, and the stats. Reads use
 * the daemon's own connection, after what was recorded before them is committed.
 */
@Injectable()
export class EventLogReader {
  constructor(
    @Inject(KSI_CONFIG) private readonly config: KsiConfig,
    @Inject(SQLITE) private readonly db: Database,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly recorder: EventLogRecorder,
  ) {}

  async query(filters: EventFilters): Promise<EventPage> {
    await this.recorder.caughtUp();
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
    await this.recorder.caughtUp();
    return this.page(`SELECT ${SELECTED} FROM event_log WHERE correlation_id = ? ORDER BY id`, [correlationId]);
  }

  stats(): EventLogStats {
    return {
      enabled: this.config.eventLog,
      total_events: this.db.prepare('SELECT COUNT(*) FROM event_log').pluck().get() as number,
      ...this.recorder.recent.summary(this.clock.now()),
      dropped_events: this.recorder.dropped,
      lost_events: this.recorder.lost,
    };
  }

  correlationStats(): CorrelationStats {
    const row = this.db.prepare('SELECT COUNT(DISTINCT correlation_id) AS correlations, COUNT(*) AS events, MIN(timestamp) AS oldest FROM event_log').get() as {
      correlations: number;
      events: number;
      oldest: number | null;
    };
    return { total_correlations: row.correlations, total_events: row.events + this.recorder.unwritten, oldest_event: row.oldest };
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
      events.push({ ...row, data: JSON.parse(row.data) as unknown });
    }
    return { events, truncated: false };
  }
}
