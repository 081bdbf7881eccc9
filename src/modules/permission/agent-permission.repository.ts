import { Injectable } from '@nestjs/common';
import { sql } from '../../database/sql-statement';
import { Storage } from '../../database/storage';
import type { AgentPermission } from './agent-permission.entity';

export type PermissionRow = Pick<AgentPermission, 'agentId' | 'level' | 'permissions' | 'parentId' | 'tokenHash'>;

const statements = {
  all: sql('SELECT agent_id AS "agentId", level, permissions, parent_id AS "parentId", token_hash AS "tokenHash" FROM agent_permissions'),
  byId: sql('SELECT agent_id AS "agentId", level, permissions, parent_id AS "parentId", token_hash AS "tokenHash" FROM agent_permissions WHERE agent_id = ?'),
  upsert: sql(
    `INSERT INTO agent_permissions (agent_id, level, permissions, parent_id, updated_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (agent_id) DO UPDATE SET level = excluded.level, permissions = excluded.permissions, parent_id = excluded.parent_id, updated_at = excluded.updated_at`,
  ),
  delete: sql('DELETE FROM agent_permissions WHERE agent_id = ?'),
  setTokenHash: sql('UPDATE agent_permissions SET token_hash = ? WHERE agent_id = ?'),
};

/** The signal nodes sharing a database send each other when an agent's row changed. */
const CHANGED_SIGNAL = 'ksi_agent_permissions';

/** Every query of `agent_permissions`. Writes resolve once committed. */
@Injectable()
export class AgentPermissionRepository {
  constructor(private readonly storage: Storage) {}

  all(): Promise<PermissionRow[]> {
    return this.storage.all<PermissionRow>(statements.all);
  }

  byId(agentId: string): Promise<PermissionRow | undefined> {
    return this.storage.get<PermissionRow>(statements.byId, [agentId]);
  }

  /** Tells the nodes sharing the database that node `from` changed an agent's row (nothing on SQLite). */
  async announce(from: string, agentId: string): Promise<void> {
    await this.storage.signal(CHANGED_SIGNAL, JSON.stringify({ from, agentId }));
  }

  /** Calls `listener` for each change a node announced, this one's included. */
  onAnnounced(listener: (from: string, agentId: string) => void): void {
    this.storage.onSignal(CHANGED_SIGNAL, (payload) => {
      const { from, agentId } = JSON.parse(payload) as { from: string; agentId: string };
      listener(from, agentId);
    });
  }

  /** See Storage.onSignalsMissed. */
  onSignalsMissed(listener: () => void): void {
    this.storage.onSignalsMissed(listener);
  }

  /** Stores the permissions (JSON); the token, if any, stays. */
  async save(row: Omit<PermissionRow, 'tokenHash'>, updatedAt: number): Promise<void> {
    await this.storage.writeStatement(statements.upsert, [row.agentId, row.level, row.permissions, row.parentId, updatedAt]);
  }

  delete(agentId: string): Promise<boolean> {
    return this.storage.writeStatement(statements.delete, [agentId]).then((changes) => changes > 0);
  }

  async setTokenHash(agentId: string, tokenHash: string): Promise<void> {
    await this.storage.writeStatement(statements.setTokenHash, [tokenHash, agentId]);
  }
}
