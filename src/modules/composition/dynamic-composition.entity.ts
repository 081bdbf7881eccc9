import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A composition created at run time with composition:create; it survives restarts. */
@Entity('dynamic_compositions')
export class DynamicComposition {
  @PrimaryColumn('text')
  name: string;

  /** The composition as JSON. */
  @Column('text')
  body: string;

  @Column('real', { name: 'created_at' })
  createdAt: number;
}
