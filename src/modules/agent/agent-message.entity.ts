import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** One message in an agent's durable inbox; each becomes one completion on the agent's session. */
@Entity('agent_messages')
@Index('idx_agent_messages_inbox', ['agentId', 'status', 'id'])
export class AgentMessage {
  @PrimaryGeneratedColumn()
  id: number;

  @Column('text', { name: 'agent_id' })
  agentId: string;

  /** JSON of the message. */
  @Column('text')
  message: string;

  /** pending, processing, done, failed */
  @Column('text')
  status: string;

  @Column('text', { name: 'request_id', nullable: true })
  requestId: string | null;

  @Column('real', { name: 'created_at' })
  createdAt: number;

  /** Why the turn failed (the completion's error), while status is failed. */
  @Column('text', { nullable: true })
  error: string | null;

  @Column('text', { name: 'error_code', nullable: true })
  errorCode: string | null;

  @Column('real', { name: 'failed_at', nullable: true })
  failedAt: number | null;
}
