import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** Positions in the `meta` JSON array, one per value read out of it (see EventLogRepository). */
export const EVENT_META = ['event_id', 'parent_id', 'correlation_id', 'event_name', 'client_id', 'agent_id', 'session_id', 'source', 'outcome', 'duration_ms'] as const;

/** Where `meta` holds the id of the node that recorded the event, after the values above. */
export const NODE_META_INDEX = EVENT_META.length;

/** The values `meta` holds, as read back. */
export interface EventMeta {
  eventId: string;
  parentId: string | null;
  correlationId: string | null;
  eventName: string;
  clientId: string | null;
  agentId: string | null;
  sessionId: string | null;
  source: string;
  outcome: string | null;
  durationMs: number | null;
  nodeId: string | null;
}

/**
 * One recorded event: a client's request or an event raised inside the daemon. Each insert binds
 * three values: every bound column costs ~0.2 µs on the daemon's one thread, so the rest lives in one
 * JSON array, read out of it by the queries that need it. No generated columns: both engines compute
 * them on every insert, even SQLite's virtual ones (measured, 50-row inserts: SQLite 3.8 µs a row with
 * them, 1.6 without; PostgreSQL 19-22 µs with its stored ones, 9.6 without). Indexed by time only: an index on correlation ids (random UUIDs)
 * made each insert ~6x dearer; traces scan.
 */
@Entity('event_log')
@Index('idx_event_log_timestamp', ['timestamp'])
export class EventLogEntry {
  @PrimaryGeneratedColumn()
  id: number;

  @Column('real')
  timestamp: number;

  /** JSON array of the EVENT_META values, then the node's id. */
  @Column('text')
  meta: string;

  /** JSON, secrets redacted. */
  @Column('text')
  data: string;
}
