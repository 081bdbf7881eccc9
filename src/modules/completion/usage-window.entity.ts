import { Column, Entity, PrimaryColumn } from 'typeorm';

/** An account that reached its usage limit: its queued requests are parked until the reset. */
@Entity('usage_windows')
export class UsageWindowRow {
  /** Whose usage: the provider's name (completion_requests.account). */
  @PrimaryColumn('text')
  account: string;

  /** The reset the provider reported (epoch ms). */
  @Column('real', { name: 'paused_until' })
  pausedUntil: number;

  @Column('text')
  reason: string;

  /** The request whose attempt hit the limit. */
  @Column('text', { name: 'request_id' })
  requestId: string;
}
