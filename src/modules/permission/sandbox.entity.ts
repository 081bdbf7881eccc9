import { Column, Entity, PrimaryColumn } from 'typeorm';

/** An agent's working directory under var/sandbox. */
@Entity('sandboxes')
export class Sandbox {
  @PrimaryColumn('text', { name: 'agent_id' })
  agentId: string;

  @Column('text')
  path: string;

  /** isolated, shared or nested */
  @Column('text')
  mode: string;

  @Column('text', { name: 'parent_agent_id', nullable: true })
  parentAgentId: string | null;

  @Column('text', { name: 'session_id', nullable: true })
  sessionId: string | null;

  /** A worktree's own git folder under the repository's .git/worktrees, found when KSI made it; null for a repository of its own. */
  @Column('text', { name: 'git_dir', nullable: true })
  gitDir: string | null;

  @Column('real', { name: 'created_at' })
  createdAt: number;
}
