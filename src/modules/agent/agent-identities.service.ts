import { Inject, Injectable } from '@nestjs/common';
import type { Database } from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import type { AgentIdentity } from '../../../libs/client/src';
import { CLOCK, type Clock } from '../../common/clock';
import { SQLITE } from '../../database/sqlite.provider';
import { WriteQueue } from '../../database/write-queue';
import { EventError } from '../../events/event-error';

/** Agent identities, durable rows (the original kept them in a JSON file). */
@Injectable()
export class AgentIdentities {
  constructor(
    @Inject(SQLITE) private readonly db: Database,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly writes: WriteQueue,
  ) {}

  async create(agentId: string | undefined, identity: Record<string, unknown>): Promise<AgentIdentity> {
    const id = agentId ?? `agent_${randomBytes(4).toString('hex')}`;
    if (this.find(id)) throw new EventError('already_exists', `Identity ${id} exists; use agent:update_identity`);
    const now = this.clock.now();
    await this.writes.run((db) => db.prepare('INSERT INTO agent_identities (agent_id, identity, created_at, updated_at) VALUES (?, ?, ?, ?)').run(id, JSON.stringify(identity), now, now));
    return this.get(id);
  }

  async update(agentId: string, updates: Record<string, unknown>): Promise<AgentIdentity> {
    const current = this.get(agentId);
    const { agent_id: _id, created_at: _created, updated_at: _updated, ...fields } = current;
    await this.writes.run((db) => db.prepare('UPDATE agent_identities SET identity = ?, updated_at = ? WHERE agent_id = ?').run(JSON.stringify({ ...fields, ...updates }), this.clock.now(), agentId));
    return this.get(agentId);
  }

  async remove(agentId: string): Promise<boolean> {
    return this.writes.run((db) => db.prepare('DELETE FROM agent_identities WHERE agent_id = ?').run(agentId).changes > 0);
  }

  get(agentId: string): AgentIdentity {
    const identity = this.find(agentId);
    if (!identity) throw new EventError('not_found', `Identity not found: ${agentId}`);
    return identity;
  }

  list(): AgentIdentity[] {
    return (this.db.prepare('SELECT agent_id FROM agent_identities ORDER BY created_at').pluck().all() as string[]).map((id) => this.get(id));
  }

  private find(agentId: string): AgentIdentity | undefined {
    const row = this.db.prepare('SELECT identity, created_at, updated_at FROM agent_identities WHERE agent_id = ?').get(agentId) as
      | { identity: string; created_at: number; updated_at: number }
      | undefined;
    return row && { ...(JSON.parse(row.identity) as Record<string, unknown>), agent_id: agentId, created_at: row.created_at / 1000, updated_at: row.updated_at / 1000 };
  }
}
