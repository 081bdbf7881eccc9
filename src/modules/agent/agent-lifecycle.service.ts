import { Inject, Injectable } from '@nestjs/common';
import type { Database } from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import {
  MODEL_FORMAT,
  compositionProfile,
  compositionSelect,
  completionCancel,
  mcpAgentConfig,
  messageConnect,
  messageDisconnect,
  parseModel,
  permissionRemoveAgent,
  permissionSetAgent,
  sandboxCreate,
  sandboxRemove,
  systemReady,
  type HandlerResult,
  type ParamsOut,
  type agentSpawn,
} from '../../../libs/client/src';
import { CLOCK, type Clock } from '../../common/clock';
import { SQLITE } from '../../database/sqlite.provider';
import { WriteQueue } from '../../database/write-queue';
import { EventBus } from '../../events/event-bus';
import type { EventContext } from '../../events/event-context';
import { EventError } from '../../events/event-error';
import { Listens } from '../../events/handles.decorator';
import { AgentInbox } from './agent-inbox.service';
import { AgentRecords, type AgentConfig } from './agent-records.service';
import { AgentTurns } from './agent-turns.service';
import { TurnOutcomes } from './turn-outcomes.service';

type SpawnParams = ParamsOut<typeof agentSpawn>;
type Spawned = HandlerResult<typeof agentSpawn>;

/**
 * Managed agents come and go here: spawning (composed profile, permissions, sandbox, MCP config, a
 * durable record), termination, restart, and adoption of the agents that outlived the daemon.
 */
@Injectable()
export class AgentLifecycle {
  constructor(
    @Inject(SQLITE) private readonly db: Database,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly writes: WriteQueue,
    private readonly bus: EventBus,
    private readonly records: AgentRecords,
    private readonly inbox: AgentInbox,
    private readonly turns: AgentTurns,
    private readonly outcomes: TurnOutcomes,
  ) {}

  /** Agents outlive the daemon: at start every one that was not stopped runs again. */
  @Listens(systemReady)
  async adopt(): Promise<void> {
    for (const row of this.records.rows()) {
      if (row.status === 'stopped') continue;
      if (row.status === 'failed') await this.records.setStatus(row.agent_id, 'idle');
      await this.bus.request(messageConnect, { agent_id: row.agent_id });
      void this.turns.next(row.agent_id);
    }
  }

  async spawn(params: SpawnParams, context: EventContext): Promise<Spawned> {
    const agentId = params.agent_id ?? `agent_${randomBytes(4).toString('hex')}`;
    if (this.records.row(agentId)) throw new EventError('already_exists', `Agent ${agentId} exists; terminate it first or pick another agent_id`);
    const name = params.composition ?? params.profile ?? (await this.selectProfile(params.selection_context, context));
    const { profile } = await this.bus.requestOne(compositionProfile, { name, variables: { ...params.context, agent_id: agentId } }, context);
    const model = params.config.model ?? profile.model;
    if (!parseModel(model)) throw new EventError('invalid_params', `Composition ${name} names the model ${JSON.stringify(model)}; use ${MODEL_FORMAT}, or give config.model`);
    const level = params.permission_profile ?? profile.permission_profile;
    await this.bus.requestOne(permissionSetAgent, { agent_id: agentId, profile: level, ...(params.parent_id && { parent_id: params.parent_id }) }, context);
    const repository = params.sandbox_config.repository ?? (typeof profile.repository === 'string' ? profile.repository : undefined);
    const { sandbox } = await this.bus
      .requestOne(sandboxCreate, { agent_id: agentId, config: { ...params.sandbox_config, repository } }, context)
      .catch(async (error: unknown) => {
        // No agent without a workspace: the permissions just set go too (a bad repository, git failing).
        await this.bus.request(permissionRemoveAgent, { agent_id: agentId });
        throw error;
      });
    const { path: mcpConfig } = await this.bus.requestOne(mcpAgentConfig, { agent_id: agentId }, context);
    const config: AgentConfig = {
      model,
      prompt: profile.prompt,
      role: params.config.role ?? profile.role,
      capabilities: params.config.capabilities ?? profile.capabilities,
      permission_profile: level,
      ...(repository !== undefined && { repository }),
    };
    await this.writes.run((db) =>
      db
        .prepare('INSERT INTO agents (agent_id, profile, status, session_id, config, sandbox_dir, mcp_config_path, restarts, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?)')
        .run(agentId, name, 'idle', params.session_id ?? null, JSON.stringify(config), sandbox.workspace, mcpConfig, this.clock.now()),
    );
    await this.bus.request(messageConnect, { agent_id: agentId }, context);
    return { ...this.records.info(agentId), token_written_to: mcpConfig };
  }

  private async selectProfile(selection: SpawnParams['selection_context'], context: EventContext): Promise<string> {
    const { selected } = await this.bus.requestOne(compositionSelect, { role: selection.role, capabilities: selection.required_capabilities, task: selection.task }, context);
    return selected;
  }

  async terminate(agentId: string): Promise<void> {
    const row = this.records.row(agentId);
    if (!row) throw new EventError('not_found', `Agent ${agentId} not found`);
    this.outcomes.cancelRestart(agentId);
    await this.records.setStatus(agentId, 'stopped');
    const running = this.db.prepare(`SELECT request_id FROM agent_messages WHERE agent_id = ? AND status = 'processing' AND request_id IS NOT NULL`).pluck().all(agentId) as string[];
    for (const requestId of running) await this.bus.request(completionCancel, { request_id: requestId });
    await this.bus.request(messageDisconnect, { agent_id: agentId });
    await this.bus.request(permissionRemoveAgent, { agent_id: agentId });
    await this.bus.request(sandboxRemove, { agent_id: agentId, force: true });
    await this.writes.run((db) => {
      db.prepare('DELETE FROM agent_messages WHERE agent_id = ?').run(agentId);
      db.prepare('DELETE FROM agents WHERE agent_id = ?').run(agentId);
    });
  }

  /** Terminate, then spawn from the same profile with the same id and session; pending and failed messages run again, in order. */
  async restart(agentId: string, context: EventContext): Promise<Spawned> {
    const row = this.records.row(agentId);
    if (!row) throw new EventError('not_found', `Agent ${agentId} not found`);
    const pending = (this.db.prepare(`SELECT message FROM agent_messages WHERE agent_id = ? AND status IN ('pending', 'failed') ORDER BY id`).pluck().all(agentId) as string[]).map(
      (message) => JSON.parse(message) as Record<string, unknown>,
    );
    const config = JSON.parse(row.config) as AgentConfig;
    await this.terminate(agentId);
    const spawned = await this.spawn(
      {
        profile: row.profile,
        agent_id: agentId,
        session_id: row.session_id ?? undefined,
        context: {},
        permission_profile: config.permission_profile,
        sandbox_config: { mode: 'isolated', repository: config.repository },
        config: { model: config.model, role: config.role, capabilities: config.capabilities },
        spawn_mode: 'fixed',
        selection_context: { required_capabilities: [] },
      },
      context,
    );
    for (const message of pending) await this.inbox.enqueue(agentId, message);
    return spawned;
  }
}
