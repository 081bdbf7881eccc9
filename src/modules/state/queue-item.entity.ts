import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** One element of a FIFO queue; order is the autoincrement id. `value` is JSON text. */
@Entity('queue_items')
@Index('idx_queue_items_queue', ['namespace', 'queue', 'id'])
export class QueueItem {
  @PrimaryGeneratedColumn()
  id: number;

  @Column('text')
  namespace: string;

  @Column('text')
  queue: string;

  @Column('text')
  value: string;

  @Column('real', { name: 'created_at' })
  createdAt: number;
}
