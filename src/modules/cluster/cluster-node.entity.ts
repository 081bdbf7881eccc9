import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A daemon sharing the database with others: what it is, and when it last said it was alive. */
@Entity('cluster_nodes')
export class ClusterNode {
  /** KSI_NODE_ID: host name and var dir unless set. */
  @PrimaryColumn('text', { name: 'node_id' })
  nodeId: string;

  @Column('text')
  host: string;

  @Column('integer')
  pid: number;

  @Column('text', { name: 'var_dir' })
  varDir: string;

  @Column('text')
  socket: string;

  @Column('text')
  version: string;

  /** Epoch ms of this run's start. */
  @Column('real', { name: 'started_at' })
  startedAt: number;

  /** Epoch ms of the last heartbeat. */
  @Column('real', { name: 'heartbeat_at' })
  heartbeatAt: number;

  /** Its KSI_LEASE_TTL_MS, which its heartbeats are judged by: nodes may differ. Null in a row of a KSI before it was kept. */
  @Column('integer', { name: 'lease_ttl_ms', nullable: true })
  leaseTtlMs: number | null;

  /** Epoch ms of a graceful stop; null while it runs (or since it died). */
  @Column('real', { name: 'stopped_at', nullable: true })
  stoppedAt: number | null;
}
