import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** A key/value pair in a namespace. `value` is the JSON text of the stored value. */
@Entity('state_entries')
export class StateEntry {
  @PrimaryColumn('text')
  namespace: string;

  @PrimaryColumn('text')
  key: string;

  @Column('text')
  value: string;

  @Column('text', { nullable: true })
  metadata: string | null;

  @Column('real', { name: 'created_at' })
  createdAt: number;

  @Column('real', { name: 'updated_at' })
  updatedAt: number;

  @Index('idx_state_entries_expires_at', { where: '"expires_at" IS NOT NULL' })
  @Column('real', { name: 'expires_at', nullable: true })
  expiresAt: number | null;
}
