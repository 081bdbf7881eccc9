import { Injectable } from '@nestjs/common';
import {
  permissionGetAgent,
  permissionGetProfile,
  permissionIssueToken,
  permissionListProfiles,
  permissionRemoveAgent,
  permissionSetAgent,
  permissionTokenIssued,
  permissionValidateSpawn,
  sandboxCreate,
  sandboxGet,
  sandboxList,
  sandboxRemove,
  sandboxStats,
  systemIdentify,
  type HandlerResult,
  type ParamsOut,
} from '../../../libs/client/src';
import { EventBus } from '../../events/event-bus';
import type { EventContext } from '../../events/event-context';
import { EventError } from '../../events/event-error';
import { Handles } from '../../events/handles.decorator';
import { effectiveTools } from './permission-rules';
import { PermissionService } from './permission.service';
import { SandboxService } from './sandbox.service';

@Injectable()
export class PermissionHandlers {
  constructor(
    private readonly permissions: PermissionService,
    private readonly sandboxes: SandboxService,
    private readonly bus: EventBus,
  ) {}

  @Handles(permissionListProfiles)
  listProfiles(): HandlerResult<typeof permissionListProfiles> {
    return { profiles: this.permissions.listProfiles() };
  }

  @Handles(permissionGetProfile)
  getProfile({ level }: ParamsOut<typeof permissionGetProfile>): HandlerResult<typeof permissionGetProfile> {
    return { profile: this.permissions.profile(level) };
  }

  @Handles(permissionSetAgent, { agentParams: { agent_id: 'child', parent_id: 'self' } })
  async setAgent({ agent_id, profile, overrides, parent_id }: ParamsOut<typeof permissionSetAgent>, context: EventContext): Promise<HandlerResult<typeof permissionSetAgent>> {
    // An agent (asking itself, or spawning through agent:spawn) is always the parent of what it sets.
    const parent = parent_id ?? context.agentId;
    const permissions = await this.permissions.setAgent(agent_id, profile, overrides, parent, context.agentId);
    return { agent_id, parent_id: parent ?? null, permissions, effective_tools: effectiveTools(permissions) };
  }

  @Handles(permissionGetAgent)
  getAgent({ agent_id }: ParamsOut<typeof permissionGetAgent>): HandlerResult<typeof permissionGetAgent> {
    const permissions = this.permissions.agent(agent_id);
    return { agent_id, parent_id: this.permissions.parentOf(agent_id), permissions, effective_tools: effectiveTools(permissions) };
  }

  @Handles(permissionRemoveAgent, { agentParams: { agent_id: 'child' } })
  async removeAgent({ agent_id }: ParamsOut<typeof permissionRemoveAgent>): Promise<HandlerResult<typeof permissionRemoveAgent>> {
    return { agent_id, status: 'removed', existed: await this.permissions.removeAgent(agent_id) };
  }

  @Handles(permissionValidateSpawn)
  validateSpawn({ parent_id, child_profile, child_permissions }: ParamsOut<typeof permissionValidateSpawn>): HandlerResult<typeof permissionValidateSpawn> {
    const child = child_permissions ?? (child_profile ? this.permissions.profile(child_profile) : undefined);
    if (!child) throw new EventError('invalid_params', 'Give child_profile or child_permissions');
    const problems = this.permissions.spawnProblems(this.permissions.agent(parent_id), child);
    return { valid: problems.length === 0, parent_id, problems };
  }

  @Handles(permissionIssueToken, { agentParams: { agent_id: 'child' } })
  async issueToken({ agent_id }: ParamsOut<typeof permissionIssueToken>, context: EventContext): Promise<HandlerResult<typeof permissionIssueToken>> {
    const token = await this.permissions.issueToken(agent_id);
    // The old token no longer identifies anyone: the agent's MCP config must carry the new one before its next turn.
    this.bus.emit(permissionTokenIssued, { agent_id, token }, context);
    return { agent_id, token };
  }

  @Handles(systemIdentify)
  identify({ agent_id, token }: ParamsOut<typeof systemIdentify>, context: EventContext): HandlerResult<typeof systemIdentify> {
    if (!context.connection) throw new EventError('no_connection', 'Only socket connections identify');
    if (context.connection.agentId !== undefined && context.connection.agentId !== agent_id) {
      throw new EventError('permission_denied', `This connection is already agent ${context.connection.agentId}`);
    }
    if (!this.permissions.identify(context.connection, agent_id, token)) throw new EventError('permission_denied', `Invalid token for agent ${agent_id}`);
    return { agent_id, identified: true, level: this.permissions.agent(agent_id).level };
  }

  @Handles(sandboxCreate, { agentParams: { agent_id: 'child', 'config.parent_agent_id': 'self_or_child' } })
  async createSandbox({ agent_id, config }: ParamsOut<typeof sandboxCreate>, context: EventContext): Promise<HandlerResult<typeof sandboxCreate>> {
    // A repository is any folder on the disk. agent:spawn passes its profile's on the bus (no connection): the operator's or the library's choice.
    if (context.connection !== undefined && context.agentId !== undefined && config.repository !== undefined) {
      throw new EventError('permission_denied', `Agent ${context.agentId} may not give config.repository: only the operator or a profile in the library names a repository`);
    }
    return { agent_id, sandbox: await this.sandboxes.create(agent_id, config.mode, config.parent_agent_id, config.session_id, config.repository) };
  }

  @Handles(sandboxGet)
  async getSandbox({ agent_id }: ParamsOut<typeof sandboxGet>): Promise<HandlerResult<typeof sandboxGet>> {
    return { agent_id, sandbox: await this.sandboxes.get(agent_id) };
  }

  @Handles(sandboxRemove, { agentParams: { agent_id: 'child' } })
  async removeSandbox({ agent_id, force }: ParamsOut<typeof sandboxRemove>): Promise<HandlerResult<typeof sandboxRemove>> {
    return { agent_id, removed: await this.sandboxes.remove(agent_id, force) };
  }

  @Handles(sandboxList)
  async listSandboxes(): Promise<HandlerResult<typeof sandboxList>> {
    const sandboxes = await this.sandboxes.list();
    return { sandboxes, count: sandboxes.length };
  }

  @Handles(sandboxStats)
  async stats(): Promise<HandlerResult<typeof sandboxStats>> {
    const sandboxes = await this.sandboxes.list();
    const count = (mode: string) => sandboxes.filter((sandbox) => sandbox.mode === mode).length;
    return { stats: { total_sandboxes: sandboxes.length, isolated: count('isolated'), shared: count('shared'), nested: count('nested') } };
  }
}
