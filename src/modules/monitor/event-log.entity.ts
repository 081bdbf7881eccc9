import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * One recorded event: a client's request or an event raised inside the daemon. Indexed by time only:
 * an index on correlation ids (random UUIDs) made each insert ~6x dearer; traces scan instead.
 */
@Entity('event_log')
@Index('idx_event_log_timestamp', ['timestamp'])
export class EventLogEntry {
  @PrimaryGeneratedColumn()
  id: number;

  @Column('text', { name: 'event_id' })
  eventId: string;

  @Column('text', { name: 'parent_id', nullable: true })
  parentId: string | null;

  @Column('text', { name: 'correlation_id', nullable: true })
  correlationId: string | null;

  @Column('text', { name: 'event_name' })
  eventName: string;

  @Column('real')
  timestamp: number;

  @Column('text', { name: 'client_id', nullable: true })
  clientId: string | null;

  @Column('text', { name: 'agent_id', nullable: true })
  agentId: string | null;

  @Column('text', { name: 'session_id', nullable: true })
  sessionId: string | null;

  @Column('text')
  source: string;

  @Column('text', { nullable: true })
  outcome: string | null;

  @Column('real', { name: 'duration_ms', nullable: true })
  durationMs: number | null;

  /** JSON, secrets redacted. */
  @Column('text')
  data: string;
}
