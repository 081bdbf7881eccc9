import { Column, Entity, PrimaryColumn } from 'typeorm';

/** One composition as discovery and selection see it; rebuilt from disk at start and on reload. */
@Entity('composition_index')
export class CompositionIndexEntry {
  @PrimaryColumn('text')
  type: string;

  @PrimaryColumn('text')
  name: string;

  @Column('text')
  version: string;

  @Column('text')
  description: string;

  @Column('text', { nullable: true })
  author: string | null;

  @Column('text', { nullable: true })
  extends: string | null;

  @Column('text', { nullable: true })
  role: string | null;

  /** JSON array */
  @Column('text')
  tags: string;

  /** JSON array */
  @Column('text')
  capabilities: string;

  /** file or dynamic */
  @Column('text')
  source: string;

  @Column('text', { name: 'file_path', nullable: true })
  filePath: string | null;

  @Column('real', { name: 'indexed_at' })
  indexedAt: number;
}
