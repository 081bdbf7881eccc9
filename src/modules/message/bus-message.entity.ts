import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** A published message: the bounded history, and the store for recipients who are offline. */
@Entity('bus_messages')
@Index('idx_bus_messages_pending', ['recipient', 'seq'], { where: 'delivered_at IS NULL AND recipient IS NOT NULL' })
export class BusMessageRow {
  @PrimaryColumn('text')
  id: string;

  @Column('integer', { unique: true })
  seq: number;

  @Column('text')
  type: string;

  /** JSON of the whole message as delivered. */
  @Column('text')
  body: string;

  /** Set while the message waits for an offline recipient. */
  @Column('text', { nullable: true })
  recipient: string | null;

  @Column('real', { name: 'delivered_at', nullable: true })
  deliveredAt: number | null;

  @Column('real', { name: 'created_at' })
  createdAt: number;
}
