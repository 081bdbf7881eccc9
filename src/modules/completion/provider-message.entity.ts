import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * One message of a conversation a stateless provider (the Messages API) continues: the next turn of
 * the session sends them all again. The Claude CLI keeps its own sessions and writes none.
 */
@Entity('provider_messages')
@Index('idx_provider_messages_session', ['sessionId', 'id'])
export class ProviderMessage {
  /** Order within a session. */
  @PrimaryGeneratedColumn({ type: 'integer' })
  id: number;

  @Column('text', { name: 'session_id' })
  sessionId: string;

  @Column('text')
  role: 'user' | 'assistant';

  /** The message's `content` as JSON: a string or content blocks, as the API takes them. */
  @Column('text')
  content: string;

  /** The completion whose turn added it. */
  @Column('text', { name: 'request_id' })
  requestId: string;

  @Column('real', { name: 'created_at' })
  createdAt: number;
}
