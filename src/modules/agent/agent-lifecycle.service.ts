import { Inject, Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import {
  MODEL_FORMAT,
  compositionProfile,
  compositionSelect,
  completionEndTurns,
  mcpAgentConfig,
  messageConnect,
  messageDisconnect,
  parseModel,
  permissionRemoveAgent,
  permissionSetAgent,
  sandboxCreate,
  sandboxRemove,
  type HandlerResult,
  type ParamsOut,
  type agentSpawn,
} from '../../../libs/client/src';
import { CLOCK, type Clock } from '../../common/clock';
import { EventBus } from '../../events/event-bus';
import type { EventContext } from '../../events/event-context';
import { EventError } from '../../events/event-error';
import { AgentInbox } from './agent-inbox.service';
import { AgentMessageRepository } from './agent-message.repository';
import { AgentOwnership } from './agent-ownership.service';
import { AgentRecords, type AgentConfig } from './agent-records.service';
import { AgentRepository } from './agent.repository';
import { TurnOutcomes } from './turn-outcomes.service';

type SpawnParams = ParamsOut<typeof agentSpawn>;
type Spawned = HandlerResult<typeof agentSpawn>;

/**
 * Managed agents come and go here: spawning (composed profile, permissions, sandbox, MCP config, a
 * durable record), termination and restart; AgentOwnership decides which node runs each.
 */
@Injectable()
export class AgentLifecycle {
  constructor(
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly bus: EventBus,
    private readonly agents: AgentRepository,
    private readonly messages: AgentMessageRepository,
    private readonly records: AgentRecords,
    private readonly inbox: AgentInbox,
    private readonly outcomes: TurnOutcomes,
    private readonly ownership: AgentOwnership,
  ) {}

  async spawn(params: SpawnParams, context: EventContext): Promise<Spawned> {
    const agentId = params.agent_id ?? `agent_${randomBytes(4).toString('hex')}`;
    if (await this.agents.find(agentId)) throw new EventError('already_exists', `Agent ${agentId} exists; terminate it first or pick another agent_id`);
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
      ...(typeof profile.claude_config_dir === 'string' && { claude_config_dir: profile.claude_config_dir }),
    };
    // Held before its row exists: an adoption sweep reading the row meanwhile must not take it over as an agent left here.
    this.ownership.hold(agentId);
    await this.agents.insert({
      agentId,
      profile: name,
      status: 'idle',
      sessionId: params.session_id ?? null,
      config: JSON.stringify(config),
      sandboxDir: sandbox.workspace,
      mcpConfigPath: mcpConfig,
      restarts: 0,
      createdAt: this.clock.now(),
    });
    await this.bus.request(messageConnect, { agent_id: agentId }, context);
    return { ...(await this.records.info(agentId)), token_written_to: mcpConfig };
  }

  private async selectProfile(selection: SpawnParams['selection_context'], context: EventContext): Promise<string> {
    const { selected } = await this.bus.requestOne(compositionSelect, { role: selection.role, capabilities: selection.required_capabilities, task: selection.task }, context);
    return selected;
  }

  async terminate(agentId: string): Promise<void> {
    if (!(await this.agents.find(agentId))) throw new EventError('not_found', `Agent ${agentId} not found`);
    this.outcomes.cancelRestart(agentId);
    this.ownership.forget(agentId);
    await this.agents.setStatus(agentId, 'stopped');
    // A turn being started (named, not yet queued) is barred: it cannot run for an agent that is gone.
    await this.bus.request(completionEndTurns, { agent_id: agentId, request_ids: await this.messages.runningRequestIds(agentId) });
    await this.bus.request(messageDisconnect, { agent_id: agentId });
    await this.bus.request(permissionRemoveAgent, { agent_id: agentId });
    await this.bus.request(sandboxRemove, { agent_id: agentId, force: true });
    await this.messages.deleteWithAgent(agentId);
  }

  /** Terminate, then spawn from the same profile with the same id and session; pending and failed messages run again, in order. */
  async restart(agentId: string, context: EventContext): Promise<Spawned> {
    const agent = await this.agents.find(agentId);
    if (!agent) throw new EventError('not_found', `Agent ${agentId} not found`);
    const pending = (await this.messages.toRunAgain(agentId)).map((message) => JSON.parse(message) as Record<string, unknown>);
    const config = JSON.parse(agent.config) as AgentConfig;
    await this.terminate(agentId);
    const spawned = await this.spawn(
      {
        profile: agent.profile,
        agent_id: agentId,
        session_id: agent.sessionId ?? undefined,
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
