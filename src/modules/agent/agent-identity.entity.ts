import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Who an agent is (name, role, anything), apart from whether it runs. */
@Entity('agent_identities')
export class AgentIdentity {
  @PrimaryColumn('text', { name: 'agent_id' })
  agentId: string;

  /** JSON object. */
  @Column('text')
  identity: string;

  @Column('real', { name: 'created_at' })
  createdAt: number;

  @Column('real', { name: 'updated_at' })
  updatedAt: number;
}
