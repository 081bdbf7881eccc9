import { Injectable } from '@nestjs/common';
import { sql } from '../../database/sql-statement';
import { Storage } from '../../database/storage';
import type { AgentIdentity } from './agent-identity.entity';

const columns = 'agent_id AS "agentId", identity, created_at AS "createdAt", updated_at AS "updatedAt"';

const statements = {
  find: sql(`SELECT ${columns} FROM agent_identities WHERE agent_id = ?`),
  all: sql(`SELECT ${columns} FROM agent_identities ORDER BY created_at`),
  insert: sql(
    `INSERT INTO agent_identities (agent_id, identity, created_at, updated_at) VALUES (@agentId, @identity, @createdAt, @updatedAt)
     ON CONFLICT (agent_id) DO NOTHING`,
  ),
  update: sql('UPDATE agent_identities SET identity = ?, updated_at = ? WHERE agent_id = ?'),
  delete: sql('DELETE FROM agent_identities WHERE agent_id = ?'),
};

/** Every query of `agent_identities`. Times are epoch ms. */
@Injectable()
export class AgentIdentityRepository {
  constructor(private readonly storage: Storage) {}

  find(agentId: string): Promise<AgentIdentity | undefined> {
    return this.storage.get<AgentIdentity>(statements.find, [agentId]);
  }

  /** In the order they were created. */
  all(): Promise<AgentIdentity[]> {
    return this.storage.all<AgentIdentity>(statements.all);
  }

  /** Resolves once committed, with false when the agent already had an identity (it is left as it was). */
  insert(identity: AgentIdentity): Promise<boolean> {
    return this.storage.writeStatement(statements.insert, identity).then((changes) => changes > 0);
  }

  async update(agentId: string, identityJson: string, now: number): Promise<void> {
    await this.storage.writeStatement(statements.update, [identityJson, now, agentId]);
  }

  /** Resolves once committed, with whether there was one. */
  delete(agentId: string): Promise<boolean> {
    return this.storage.writeStatement(statements.delete, [agentId]).then((changes) => changes > 0);
  }
}
