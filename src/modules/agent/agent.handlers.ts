import { Injectable } from '@nestjs/common';
import {
  agentBroadcastParams,
  agentFindIdleParams,
  agentIdParams,
  agentInboxParams,
  agentListParams,
  agentPeersParams,
  agentRetryParams,
  agentSendParams,
  agentSpawnParams,
  agentTerminateParams,
  identityCreateParams,
  identityUpdateParams,
  noAgentParams,
  type z,
} from '../../../libs/client/src';
import type { EventContext } from '../../events/event-context';
import { EventError } from '../../events/event-error';
import { Handles } from '../../events/handles.decorator';
import { AgentIdentities } from './agent-identities.service';
import { AgentService } from './agent.service';

@Injectable()
export class AgentHandlers {
  constructor(
    private readonly agents: AgentService,
    private readonly identities: AgentIdentities,
  ) {}

  @Handles('agent:spawn', { summary: 'Start an agent from a profile: permissions, sandbox, MCP config, durable inbox', params: agentSpawnParams, agentParams: { parent_id: 'self' } })
  spawn(params: z.output<typeof agentSpawnParams>, context: EventContext) {
    // A session or a shared sandbox is named by id alone: an agent could name another agent's.
    if (context.agentId !== undefined && (params.session_id !== undefined || params.sandbox_config.session_id !== undefined)) {
      throw new EventError('permission_denied', `Agent ${context.agentId} may not give session_id or sandbox_config.session_id: only the operator may continue a session or join a shared sandbox`);
    }
    // A repository is any folder on the disk: which ones agents work in is the operator's (or the library's) choice.
    if (context.agentId !== undefined && params.sandbox_config.repository !== undefined) {
      throw new EventError('permission_denied', `Agent ${context.agentId} may not give sandbox_config.repository: only the operator or a profile in the library names a repository`);
    }
    return this.agents.spawn(params, context);
  }

  @Handles('agent:terminate', {
    summary: 'Stop an agent: its running turn is cancelled, its token and sandbox removed',
    params: agentTerminateParams,
    agentParams: { agent_id: 'self_or_child' },
  })
  async terminate({ agent_id }: z.output<typeof agentTerminateParams>) {
    await this.agents.terminate(agent_id);
    return { agent_id, status: 'terminated' };
  }

  @Handles('agent:restart', { summary: 'Terminate and spawn again from the same profile, keeping the session', params: agentIdParams, agentParams: { agent_id: 'child' } })
  restart({ agent_id }: z.output<typeof agentIdParams>, context: EventContext) {
    return this.agents.restart(agent_id, context);
  }

  @Handles('agent:retry', { summary: "Run an agent's failed messages again (one, or all), before newer ones", params: agentRetryParams, agentParams: { agent_id: 'self_or_child' } })
  async retry({ agent_id, message_id }: z.output<typeof agentRetryParams>) {
    return { agent_id, retried: await this.agents.retry(agent_id, message_id) };
  }

  @Handles('agent:create_identity', { summary: 'Record who an agent is (name, role, …)', params: identityCreateParams, agentParams: { agent_id: 'self' } })
  async createIdentity({ agent_id, identity }: z.output<typeof identityCreateParams>) {
    const created = await this.identities.create(agent_id, identity);
    return { agent_id: created.agent_id, status: 'created', identity: created };
  }

  @Handles('agent:update_identity', { summary: "Merge fields into an agent's identity", params: identityUpdateParams, agentParams: { agent_id: 'self' } })
  async updateIdentity({ agent_id, updates }: z.output<typeof identityUpdateParams>) {
    return { agent_id, status: 'updated', identity: await this.identities.update(agent_id, updates) };
  }

  @Handles('agent:remove_identity', { summary: "Remove an agent's identity", params: agentIdParams, agentParams: { agent_id: 'self' } })
  async removeIdentity({ agent_id }: z.output<typeof agentIdParams>) {
    return { agent_id, status: 'removed', existed: await this.identities.remove(agent_id) };
  }

  @Handles('agent:get_identity', { summary: "An agent's identity", params: agentIdParams })
  getIdentity({ agent_id }: z.output<typeof agentIdParams>) {
    return { agent_id, identity: this.identities.get(agent_id) };
  }

  @Handles('agent:list_identities', { summary: 'Every identity', params: noAgentParams })
  listIdentities() {
    const identities = this.identities.list();
    return { identities, count: identities.length };
  }

  @Handles('agent:list', { summary: 'Running agents, optionally by status', params: agentListParams })
  list({ status }: z.output<typeof agentListParams>) {
    const agents = this.agents.list(status);
    return { agents, count: agents.length };
  }

  @Handles('agent:info', {
    summary: 'One agent, with what its completions cost and its failed turns; an agent reads only its own and its children\'s',
    params: agentIdParams,
    agentParams: { agent_id: 'self_or_child' },
  })
  info({ agent_id }: z.output<typeof agentIdParams>) {
    return this.agents.infoWithCosts(agent_id);
  }

  @Handles('agent:send_message', { summary: "Queue a message for an agent; message.prompt (or content) is the agent's next turn", params: agentSendParams })
  async send({ agent_id, message }: z.output<typeof agentSendParams>) {
    return { status: 'sent', agent_id, message_id: await this.agents.enqueue(agent_id, message) };
  }

  @Handles('agent:broadcast', { summary: 'Send a message to every other agent once', params: agentBroadcastParams, agentParams: { sender: 'self' } })
  async broadcast({ message, sender }: z.output<typeof agentBroadcastParams>, context: EventContext) {
    return { status: 'broadcast', ...(await this.agents.broadcast(message, context.agentId ?? sender)) };
  }

  @Handles('agent:discover_peers', { summary: 'Other agents, filtered by capabilities (any) and roles', params: agentPeersParams, agentParams: { agent_id: 'self' } })
  peers({ agent_id, capabilities, roles }: z.output<typeof agentPeersParams>, context: EventContext) {
    const self = context.agentId ?? agent_id;
    const peers = this.agents
      .list()
      .filter((agent) => agent.agent_id !== self && agent.status !== 'stopped')
      .filter((agent) => capabilities.length === 0 || capabilities.some((capability) => agent.capabilities.includes(capability)))
      .filter((agent) => roles.length === 0 || roles.includes(agent.role));
    return { status: 'success', requesting_agent: self ?? null, peers, discovered_count: peers.length };
  }

  @Handles('agent:inbox', { summary: 'A bus message for a managed agent', params: agentInboxParams, internal: true })
  async inbox({ agent_id, message }: z.output<typeof agentInboxParams>) {
    return { message_id: await this.agents.enqueue(agent_id, message) };
  }

  @Handles('checkpoint:collect', { summary: 'Agents and their sessions, for the checkpoint', params: noAgentParams, internal: true })
  collect() {
    return { module: 'agent', agents: this.agents.list().map(({ agent_id, status, session_id, pending_messages }) => ({ agent_id, status, session_id, pending_messages })) };
  }

  @Handles('agent:profile', { summary: 'The composed profile an agent runs, so its costs add up by profile', params: agentIdParams, internal: true })
  profile({ agent_id }: z.output<typeof agentIdParams>): { profile: string } {
    return { profile: this.agents.info(agent_id).profile };
  }

  @Handles('agent:find_idle', { summary: 'An idle agent with these capabilities', params: agentFindIdleParams, internal: true })
  findIdle({ capabilities }: z.output<typeof agentFindIdleParams>) {
    const agentId = this.agents.findIdle(capabilities);
    return agentId ? { agent_id: agentId } : undefined;
  }
}
