import { Column, Entity, PrimaryColumn } from 'typeorm';

/** An agent's effective permissions: a profile with its overrides applied, capped by its parent. */
@Entity('agent_permissions')
export class AgentPermission {
  @PrimaryColumn('text', { name: 'agent_id' })
  agentId: string;

  @Column('text')
  level: string;

  /** JSON of the effective permissions. */
  @Column('text')
  permissions: string;

  @Column('text', { name: 'parent_id', nullable: true })
  parentId: string | null;

  /** sha256 of the agent's token; the token itself is never stored. */
  @Column('text', { name: 'token_hash', nullable: true })
  tokenHash: string | null;

  @Column('real', { name: 'updated_at' })
  updatedAt: number;
}
