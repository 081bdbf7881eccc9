import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { AgentStatus } from '../../../libs/client/src';

/** A managed agent: survives daemon restarts (re-adopted from this row). */
@Entity('agents')
export class Agent {
  @PrimaryColumn('text', { name: 'agent_id' })
  agentId: string;

  @Column('text')
  profile: string;

  @Column('text')
  status: AgentStatus;

  /** The session the next turn resumes; each reply's session replaces it. */
  @Column('text', { name: 'session_id', nullable: true })
  sessionId: string | null;

  /** JSON: model, prompt, role, capabilities, permission_profile from the composed profile. */
  @Column('text')
  config: string;

  @Column('text', { name: 'sandbox_dir', nullable: true })
  sandboxDir: string | null;

  @Column('text', { name: 'mcp_config_path', nullable: true })
  mcpConfigPath: string | null;

  @Column('integer')
  restarts: number;

  @Column('real', { name: 'created_at' })
  createdAt: number;

  /** The node that runs the agent's turns (KSI_NODE_ID); null while no node holds it (its node stopped). */
  @Column('text', { nullable: true })
  owner: string | null;
}
