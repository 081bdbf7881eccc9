import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A decision an approver asked to remember: the agent's later calls with the same subject are decided the same way. */
@Entity('approval_rules')
export class ApprovalRule {
  @PrimaryColumn('text', { name: 'agent_id' })
  agentId: string;

  @PrimaryColumn('text')
  subject: string;

  @Column('text')
  decision: 'allow' | 'deny';

  @Column('real', { name: 'created_at' })
  createdAt: number;
}
