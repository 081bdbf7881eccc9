import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/** A session the Claude CLI returned, linked to the session it resumed: the session chain. */
@Entity('session_links')
@Index('idx_session_links_root', ['rootSessionId', 'createdAt'])
export class SessionLink {
  @PrimaryColumn('text', { name: 'session_id' })
  sessionId: string;

  @Column('text', { name: 'parent_session_id', nullable: true })
  parentSessionId: string | null;

  /** The first session of the chain; every link of a chain shares it. */
  @Column('text', { name: 'root_session_id' })
  rootSessionId: string;

  @Column('text', { name: 'request_id' })
  requestId: string;

  @Column('real', { name: 'created_at' })
  createdAt: number;
}
