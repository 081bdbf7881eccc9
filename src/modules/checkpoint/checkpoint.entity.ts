import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** What was in flight at a stop (or on dev:checkpoint), one slice per module; consumed by one restore. */
@Entity('checkpoints')
export class Checkpoint {
  @PrimaryGeneratedColumn()
  id: number;

  @Column('real', { name: 'created_at' })
  createdAt: number;

  /** shutdown, manual (dev:checkpoint) */
  @Column('text')
  reason: string;

  /** JSON: { <module>: <its slice> } */
  @Column('text')
  data: string;

  /** Set by the restore that used it; a consumed checkpoint is never replayed at start. */
  @Column('real', { name: 'consumed_at', nullable: true })
  consumedAt: number | null;

  /** JSON: what the restore did. */
  @Column('text', { nullable: true })
  restore: string | null;

  /** The node (KSI_NODE_ID) it belongs to: nodes sharing a database each keep their own; null before clusters. */
  @Column('text', { name: 'node_id', nullable: true })
  nodeId: string | null;
}
