import { Inject, Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import type { AgentIdentity } from '../../../libs/client/src';
import { CLOCK, type Clock } from '../../common/clock';
import { EventError } from '../../events/event-error';
import type { AgentIdentity as IdentityRecord } from './agent-identity.entity';
import { AgentIdentityRepository } from './agent-identity.repository';

/** Agent identities, durable rows (the original kept them in a JSON file). */
@Injectable()
export class AgentIdentities {
  constructor(
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly identities: AgentIdentityRepository,
  ) {}

  async create(agentId: string | undefined, identity: Record<string, unknown>): Promise<AgentIdentity> {
    const id = agentId ?? `agent_${randomBytes(4).toString('hex')}`;
    const now = this.clock.now();
    const created = await this.identities.insert({ agentId: id, identity: JSON.stringify(identity), createdAt: now, updatedAt: now });
    if (!created) throw new EventError('already_exists', `Identity ${id} exists; use agent:update_identity`);
    return this.get(id);
  }

  async update(agentId: string, updates: Record<string, unknown>): Promise<AgentIdentity> {
    const current = await this.get(agentId);
    const { agent_id: _id, created_at: _created, updated_at: _updated, ...fields } = current;
    await this.identities.update(agentId, JSON.stringify({ ...fields, ...updates }), this.clock.now());
    return this.get(agentId);
  }

  remove(agentId: string): Promise<boolean> {
    return this.identities.delete(agentId);
  }

  async get(agentId: string): Promise<AgentIdentity> {
    const record = await this.identities.find(agentId);
    if (!record) throw new EventError('not_found', `Identity not found: ${agentId}`);
    return toIdentity(record);
  }

  async list(): Promise<AgentIdentity[]> {
    return (await this.identities.all()).map(toIdentity);
  }
}

/** The stored fields, and the record's id and times (seconds) over them. */
function toIdentity(record: IdentityRecord): AgentIdentity {
  return { ...(JSON.parse(record.identity) as Record<string, unknown>), agent_id: record.agentId, created_at: record.createdAt / 1000, updated_at: record.updatedAt / 1000 };
}
