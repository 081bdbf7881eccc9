import { Injectable } from '@nestjs/common';
import { sql } from '../../database/sql-statement';
import { Storage } from '../../database/storage';
import type { Sandbox } from './sandbox.entity';

const columns = 'agent_id AS "agentId", path, mode, parent_agent_id AS "parentAgentId", session_id AS "sessionId", git_dir AS "gitDir", created_at AS "createdAt"';

const statements = {
  find: sql(`SELECT ${columns} FROM sandboxes WHERE agent_id = ?`),
  all: sql(`SELECT ${columns} FROM sandboxes ORDER BY created_at`),
  insert: sql(
    `INSERT INTO sandboxes (agent_id, path, mode, parent_agent_id, session_id, git_dir, created_at)
     VALUES (@agentId, @path, @mode, @parentAgentId, @sessionId, @gitDir, @createdAt)`,
  ),
  delete: sql('DELETE FROM sandboxes WHERE agent_id = ?'),
};

/** Every query of `sandboxes`. Times are epoch ms; writes resolve once committed. */
@Injectable()
export class SandboxRepository {
  constructor(private readonly storage: Storage) {}

  find(agentId: string): Promise<Sandbox | undefined> {
    return this.storage.get<Sandbox>(statements.find, [agentId]);
  }

  /** Oldest first. */
  all(): Promise<Sandbox[]> {
    return this.storage.all<Sandbox>(statements.all);
  }

  async insert(sandbox: Sandbox): Promise<void> {
    await this.storage.writeStatement(statements.insert, sandbox);
  }

  async delete(agentId: string): Promise<void> {
    await this.storage.writeStatement(statements.delete, [agentId]);
  }
}
