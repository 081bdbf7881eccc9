import { Column, Entity, Index, PrimaryGeneratedColumn, type ColumnOptions } from 'typeorm';

/** Positions in the `meta` JSON array, one per column derived from it. */
export const EVENT_META = ['event_id', 'parent_id', 'correlation_id', 'event_name', 'client_id', 'agent_id', 'session_id', 'source', 'outcome', 'duration_ms'] as const;

/** Where `meta` holds the id of the node that recorded the event, after the values read as columns. */
export const NODE_META_INDEX = EVENT_META.length;

type MetaColumn = (typeof EVENT_META)[number];

/** A column read out of `meta`, never written. */
const fromMeta = (name: MetaColumn, type: 'text' | 'real' = 'text'): ColumnOptions => ({
  name,
  type,
  nullable: true,
  generatedType: 'VIRTUAL',
  asExpression: `meta ->> ${EVENT_META.indexOf(name)}`,
  insert: false,
  update: false,
});

/**
 * One recorded event: a client's request or an event raised inside the daemon. Each insert binds
 * three values: every bound column costs ~0.2 µs on the daemon's one thread, so the rest lives in one
 * JSON array and reads back as virtual columns (computed when read, never stored twice). Indexed by
 * time only: an index on correlation ids (random UUIDs) made each insert ~6x dearer; traces scan.
 */
@Entity('event_log')
@Index('idx_event_log_timestamp', ['timestamp'])
export class EventLogEntry {
  @PrimaryGeneratedColumn()
  id: number;

  @Column('real')
  timestamp: number;

  /** JSON array of the EVENT_META values. */
  @Column('text')
  meta: string;

  /** JSON, secrets redacted. */
  @Column('text')
  data: string;

  @Column(fromMeta('event_id'))
  eventId: string;

  @Column(fromMeta('parent_id'))
  parentId: string | null;

  @Column(fromMeta('correlation_id'))
  correlationId: string | null;

  @Column(fromMeta('event_name'))
  eventName: string;

  @Column(fromMeta('client_id'))
  clientId: string | null;

  @Column(fromMeta('agent_id'))
  agentId: string | null;

  @Column(fromMeta('session_id'))
  sessionId: string | null;

  @Column(fromMeta('source'))
  source: string;

  @Column(fromMeta('outcome'))
  outcome: string | null;

  @Column(fromMeta('duration_ms', 'real'))
  durationMs: number | null;
}
