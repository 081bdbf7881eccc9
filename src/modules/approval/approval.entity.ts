import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import type { ApprovalStatus } from '../../../libs/client/src';

/** A tool call an agent's CLI asked to make that no rule decided: it waits for a person, or its parent. */
@Entity('approvals')
@Index('idx_approvals_status', ['status', 'requestedAt'])
@Index('idx_approvals_agent_subject', ['agentId', 'subject'])
export class Approval {
  @PrimaryColumn('text', { name: 'approval_id' })
  approvalId: string;

  @Column('text', { name: 'agent_id' })
  agentId: string;

  @Column('text', { name: 'tool_name' })
  toolName: string;

  /** The tool call's input (JSON). */
  @Column('text')
  input: string;

  /** What rules match: Tool(argument). */
  @Column('text')
  subject: string;

  @Column('text', { name: 'tool_use_id', nullable: true })
  toolUseId: string | null;

  @Column('text')
  status: ApprovalStatus;

  @Column('text', { nullable: true })
  reason: string | null;

  /** operator, agent:<id> or timeout. */
  @Column('text', { name: 'decided_by', nullable: true })
  decidedBy: string | null;

  /** 1 when the decision became a rule for the agent. */
  @Column('integer')
  remember: number;

  @Column('real', { name: 'requested_at' })
  requestedAt: number;

  @Column('real', { name: 'timeout_at' })
  timeoutAt: number;

  @Column('real', { name: 'decided_at', nullable: true })
  decidedAt: number | null;

  /**
   * When a waiting call got the decision. A decision nobody was waiting for (the CLI died with a
   * restart) answers the agent's next call with the same subject instead, on the same node; once
   * the agent runs on another node, no call gets it (the time it was closed).
   */
  @Column('real', { name: 'answered_at', nullable: true })
  answeredAt: number | null;

  /** The node whose daemon the asking call waits on; null for requests made before nodes were recorded. */
  @Column('text', { name: 'node_id', nullable: true })
  nodeId: string | null;
}
