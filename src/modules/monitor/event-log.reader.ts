import { Inject, Injectable } from '@nestjs/common';
import type { CorrelationStats, EventFilters, EventLogStats, LoggedEvent } from '../../../libs/client/src';
import { CLOCK, type Clock } from '../../common/clock';
import { KSI_CONFIG, type KsiConfig } from '../../config/config';
import { EventLogRecorder } from './event-log.recorder';
import { EventLogRepository, type EventSelection, type StoredEvent } from './event-log.repository';
import { truncationMarker } from './redact';

/** Room for an event's fields beside its data in a reply. */
const ROW_FIELDS_BYTES = 1024;
/** Rows read at a time while a reply is built: a reply's events are never all held as text at once. */
const ROWS_PER_READ = 200;

/** Events read for one reply; `truncated` when more matched than the reply's byte budget holds. */
export interface EventPage {
  events: LoggedEvent[];
  truncated: boolean;
}

/**
 * What clients read of the event log: events by filter or correlation id, and the stats. Reads
 * come after what was recorded before them is committed.
 */
@Injectable()
export class EventLogReader {
  constructor(
    @Inject(KSI_CONFIG) private readonly config: KsiConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly recorder: EventLogRecorder,
    private readonly events: EventLogRepository,
  ) {}

  async query(filters: EventFilters): Promise<EventPage> {
    await this.recorder.caughtUp();
    const at = (value: number | string | undefined) => (value === undefined || typeof value === 'number' ? value : Date.parse(value) / 1000);
    return this.page(
      {
        patterns: filters.patterns ?? filters.event_patterns ?? [],
        since: at(filters.since),
        until: at(filters.until),
        clientId: filters.client_id,
        sessionId: filters.session_id,
        correlationId: filters.correlation_id,
        newestFirst: filters.reverse,
      },
      filters.limit,
    );
  }

  /** Events of one correlation id, in the order they happened. */
  async chain(correlationId: string): Promise<EventPage> {
    await this.recorder.caughtUp();
    return this.page({ patterns: [], correlationId, newestFirst: false }, Infinity);
  }

  async stats(): Promise<EventLogStats> {
    return {
      enabled: this.config.eventLog,
      total_events: await this.events.count(),
      ...this.recorder.recent.summary(this.clock.now()),
      dropped_events: this.recorder.dropped,
      lost_events: this.recorder.lost,
    };
  }

  async correlationStats(): Promise<CorrelationStats> {
    const stats = await this.events.correlationStats();
    return { total_correlations: stats.correlations, total_events: stats.events + this.recorder.unwritten, oldest_event: stats.oldest };
  }

  /** Rows read a few at a time until `limit` or the reply's budget (KSI_MONITOR_REPLY_BYTES) is spent: a reply is never built whole. */
  private async page(selection: EventSelection, limit: number): Promise<EventPage> {
    const events: LoggedEvent[] = [];
    let bytes = 0;
    let cursor: number | undefined;
    while (events.length < limit) {
      const rows = await this.events.select(selection, Math.min(ROWS_PER_READ, limit - events.length), cursor);
      for (const row of rows) {
        // Rows recorded before data was bounded can be larger than the limit.
        const data = row.data.length > this.config.eventDataMaxBytes ? truncationMarker(row.data) : row.data;
        bytes += data.length + ROW_FIELDS_BYTES;
        if (bytes > this.config.monitorReplyBytes) return { events, truncated: true };
        events.push(loggedEvent(row, data));
        cursor = row.id;
      }
      if (rows.length < ROWS_PER_READ) break;
    }
    return { events, truncated: false };
  }
}

/** The contract's shape, fields in the order the log has always given them. */
function loggedEvent(row: StoredEvent, data: string): LoggedEvent {
  return {
    event_id: row.eventId,
    parent_id: row.parentId,
    correlation_id: row.correlationId,
    event_name: row.eventName,
    client_id: row.clientId,
    agent_id: row.agentId,
    session_id: row.sessionId,
    // The recorder writes only these two.
    source: row.source as LoggedEvent['source'],
    outcome: row.outcome,
    duration_ms: row.durationMs,
    node_id: row.nodeId,
    timestamp: row.timestamp,
    data: JSON.parse(data) as unknown,
  };
}
