import { Injectable } from '@nestjs/common';
import {
  agentParams,
  identifyParams,
  levelParams,
  noPermissionParams,
  sandboxCreateParams,
  sandboxRemoveParams,
  setAgentParams,
  validateSpawnParams,
  type z,
} from '../../../libs/client/src';
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
  ) {}

  @Handles('permission:list_profiles', { summary: 'The permission profiles and what each allows', params: noPermissionParams })
  listProfiles() {
    return { profiles: this.permissions.listProfiles() };
  }

  @Handles('permission:get_profile', { summary: 'One permission profile', params: levelParams })
  getProfile({ level }: z.output<typeof levelParams>) {
    return { profile: this.permissions.profile(level) };
  }

  @Handles('permission:set_agent', {
    summary: "Set an agent's permissions from a profile with overrides (never above its parent's); an agent sets them only for its own children",
    params: setAgentParams,
    agentParams: { agent_id: 'child', parent_id: 'self' },
  })
  async setAgent({ agent_id, profile, overrides, parent_id }: z.output<typeof setAgentParams>, context: EventContext) {
    // An agent (asking itself, or spawning through agent:spawn) is always the parent of what it sets.
    const permissions = await this.permissions.setAgent(agent_id, profile, overrides, parent_id ?? context.agentId, context.agentId);
    return { agent_id, permissions, effective_tools: effectiveTools(permissions) };
  }

  @Handles('permission:get_agent', { summary: "An agent's effective permissions and tools", params: agentParams })
  getAgent({ agent_id }: z.output<typeof agentParams>) {
    const permissions = this.permissions.agent(agent_id);
    return { agent_id, permissions, effective_tools: effectiveTools(permissions) };
  }

  @Handles('permission:remove_agent', { summary: "Remove an agent's permissions and its token; its identified connections end", params: agentParams, agentParams: { agent_id: 'child' } })
  async removeAgent({ agent_id }: z.output<typeof agentParams>) {
    return { agent_id, status: 'removed', existed: await this.permissions.removeAgent(agent_id) };
  }

  @Handles('permission:validate_spawn', { summary: 'Whether a parent may spawn a child with these permissions', params: validateSpawnParams })
  validateSpawn({ parent_id, child_profile, child_permissions }: z.output<typeof validateSpawnParams>) {
    const child = child_permissions ?? (child_profile ? this.permissions.profile(child_profile) : undefined);
    if (!child) throw new EventError('invalid_params', 'Give child_profile or child_permissions');
    const problems = this.permissions.spawnProblems(this.permissions.agent(parent_id), child);
    return { valid: problems.length === 0, parent_id, problems };
  }

  @Handles('permission:issue_token', {
    summary: 'A new token with which a process identifies as the agent (system:identify); connections identified with the old one end',
    params: agentParams,
    agentParams: { agent_id: 'child' },
  })
  async issueToken({ agent_id }: z.output<typeof agentParams>) {
    return { agent_id, token: await this.permissions.issueToken(agent_id) };
  }

  @Handles('system:identify', { summary: "Identify this connection as an agent; from then on the agent's permissions apply", params: identifyParams })
  identify({ agent_id, token }: z.output<typeof identifyParams>, context: EventContext) {
    if (!context.connection) throw new EventError('no_connection', 'Only socket connections identify');
    if (context.connection.agentId !== undefined && context.connection.agentId !== agent_id) {
      throw new EventError('permission_denied', `This connection is already agent ${context.connection.agentId}`);
    }
    if (!this.permissions.identify(context.connection, agent_id, token)) throw new EventError('permission_denied', `Invalid token for agent ${agent_id}`);
    return { agent_id, identified: true, level: this.permissions.agent(agent_id).level };
  }

  @Handles('sandbox:create', {
    summary: "Create (or return) an agent sandbox: isolated, shared by session, or nested; its workspace is a git repository of its own, or a worktree of `repository` on the branch ksi/<agent_id>",
    params: sandboxCreateParams,
    agentParams: { agent_id: 'child', 'config.parent_agent_id': 'self_or_child' },
  })
  async createSandbox({ agent_id, config }: z.output<typeof sandboxCreateParams>, context: EventContext) {
    // A repository is any folder on the disk. agent:spawn passes its profile's on the bus (no connection): the operator's or the library's choice.
    if (context.connection !== undefined && context.agentId !== undefined && config.repository !== undefined) {
      throw new EventError('permission_denied', `Agent ${context.agentId} may not give config.repository: only the operator or a profile in the library names a repository`);
    }
    return { agent_id, sandbox: await this.sandboxes.create(agent_id, config.mode, config.parent_agent_id, config.session_id, config.repository) };
  }

  @Handles('sandbox:get', { summary: "An agent's sandbox", params: agentParams })
  getSandbox({ agent_id }: z.output<typeof agentParams>) {
    return { agent_id, sandbox: this.sandboxes.get(agent_id) };
  }

  @Handles('sandbox:remove', { summary: "Delete an agent's sandbox (nested children need force)", params: sandboxRemoveParams, agentParams: { agent_id: 'child' } })
  async removeSandbox({ agent_id, force }: z.output<typeof sandboxRemoveParams>) {
    return { agent_id, removed: await this.sandboxes.remove(agent_id, force) };
  }

  @Handles('sandbox:list', { summary: 'Every sandbox', params: noPermissionParams })
  listSandboxes() {
    const sandboxes = this.sandboxes.list();
    return { sandboxes, count: sandboxes.length };
  }

  @Handles('sandbox:stats', { summary: 'Sandboxes by mode', params: noPermissionParams })
  stats() {
    const sandboxes = this.sandboxes.list();
    const count = (mode: string) => sandboxes.filter((sandbox) => sandbox.mode === mode).length;
    return { stats: { total_sandboxes: sandboxes.length, isolated: count('isolated'), shared: count('shared'), nested: count('nested') } };
  }
}
