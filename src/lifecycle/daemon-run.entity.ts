import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** One run of the daemon: how it ended tells the next start whether it stopped cleanly or crashed. */
@Entity('daemon_runs')
export class DaemonRun {
  @PrimaryGeneratedColumn()
  id: number;

  @Column('integer')
  pid: number;

  @Column('real', { name: 'started_at' })
  startedAt: number;

  @Column('real', { name: 'ended_at', nullable: true })
  endedAt: number | null;

  /** JSON: how the shutdown went (clean, or which services timed out). Null until it ends. */
  @Column('text', { nullable: true })
  shutdown: string | null;

  /** The node (KSI_NODE_ID) it belongs to: nodes sharing a database each keep their own; null before clusters. */
  @Column('text', { name: 'node_id', nullable: true })
  nodeId: string | null;
}
