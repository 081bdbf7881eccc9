import { Injectable } from '@nestjs/common';
import {
  agentBridgeConfig,
  agentBroadcast,
  agentCreateIdentity,
  agentDiscoverPeers,
  agentFindIdle,
  agentGetIdentity,
  agentInbox,
  agentInfo,
  agentList,
  agentListIdentities,
  agentProfile,
  agentRemoveIdentity,
  agentRestart,
  agentRetry,
  agentSendMessage,
  agentSpawn,
  agentTerminate,
  agentUpdateIdentity,
  checkpointCollect,
  type AgentInfo,
  type HandlerResult,
  type ParamsOut,
} from '../../../libs/client/src';
import type { EventContext } from '../../events/event-context';
import { EventError } from '../../events/event-error';
import { Handles } from '../../events/handles.decorator';
import { RequestGuards } from '../../events/request-guard';
import { AgentBridges } from './agent-bridges.service';
import { AgentIdentities } from './agent-identities.service';
import { AgentInbox } from './agent-inbox.service';
import { AgentLifecycle } from './agent-lifecycle.service';
import { AgentRecords } from './agent-records.service';

@Injectable()
export class AgentHandlers {
  constructor(
    private readonly lifecycle: AgentLifecycle,
    private readonly inboxes: AgentInbox,
    private readonly records: AgentRecords,
    private readonly identities: AgentIdentities,
    private readonly bridges: AgentBridges,
    private readonly guards: RequestGuards,
  ) {}

  @Handles(agentSpawn, { agentParams: { parent_id: 'self' } })
  spawn(params: ParamsOut<typeof agentSpawn>, context: EventContext): Promise<HandlerResult<typeof agentSpawn>> {
    // A session or a shared sandbox is named by id alone: an agent could name another agent's.
    if (context.agentId !== undefined && (params.session_id !== undefined || params.sandbox_config.session_id !== undefined)) {
      throw new EventError('permission_denied', `Agent ${context.agentId} may not give session_id or sandbox_config.session_id: only the operator may continue a session or join a shared sandbox`);
    }
    // A repository is any folder on the disk: which ones agents work in is the operator's (or the library's) choice.
    if (context.agentId !== undefined && params.sandbox_config.repository !== undefined) {
      throw new EventError('permission_denied', `Agent ${context.agentId} may not give sandbox_config.repository: only the operator or a profile in the library names a repository`);
    }
    return this.lifecycle.spawn(params, context);
  }

  @Handles(agentTerminate, { agentParams: { agent_id: 'self_or_child' } })
  async terminate({ agent_id }: ParamsOut<typeof agentTerminate>): Promise<HandlerResult<typeof agentTerminate>> {
    await this.lifecycle.terminate(agent_id);
    return { agent_id, status: 'terminated' };
  }

  @Handles(agentRestart, { agentParams: { agent_id: 'child' } })
  restart({ agent_id }: ParamsOut<typeof agentRestart>, context: EventContext): Promise<HandlerResult<typeof agentRestart>> {
    return this.lifecycle.restart(agent_id, context);
  }

  @Handles(agentRetry, { agentParams: { agent_id: 'self_or_child' } })
  async retry({ agent_id, message_id }: ParamsOut<typeof agentRetry>): Promise<HandlerResult<typeof agentRetry>> {
    return { agent_id, retried: await this.inboxes.retry(agent_id, message_id) };
  }

  @Handles(agentCreateIdentity, { agentParams: { agent_id: 'self' } })
  async createIdentity({ agent_id, identity }: ParamsOut<typeof agentCreateIdentity>): Promise<HandlerResult<typeof agentCreateIdentity>> {
    const created = await this.identities.create(agent_id, identity);
    return { agent_id: created.agent_id, status: 'created', identity: created };
  }

  @Handles(agentUpdateIdentity, { agentParams: { agent_id: 'self' } })
  async updateIdentity({ agent_id, updates }: ParamsOut<typeof agentUpdateIdentity>): Promise<HandlerResult<typeof agentUpdateIdentity>> {
    return { agent_id, status: 'updated', identity: await this.identities.update(agent_id, updates) };
  }

  @Handles(agentRemoveIdentity, { agentParams: { agent_id: 'self' } })
  async removeIdentity({ agent_id }: ParamsOut<typeof agentRemoveIdentity>): Promise<HandlerResult<typeof agentRemoveIdentity>> {
    return { agent_id, status: 'removed', existed: await this.identities.remove(agent_id) };
  }

  @Handles(agentGetIdentity)
  async getIdentity({ agent_id }: ParamsOut<typeof agentGetIdentity>): Promise<HandlerResult<typeof agentGetIdentity>> {
    return { agent_id, identity: await this.identities.get(agent_id) };
  }

  @Handles(agentListIdentities)
  async listIdentities(): Promise<HandlerResult<typeof agentListIdentities>> {
    const identities = await this.identities.list();
    return { identities, count: identities.length };
  }

  @Handles(agentList)
  async list({ status }: ParamsOut<typeof agentList>, context: EventContext): Promise<HandlerResult<typeof agentList>> {
    const agents = (await this.records.list(status)).map((agent) => seenBy(agent, context));
    return { agents, count: agents.length };
  }

  @Handles(agentInfo, { agentParams: { agent_id: 'self_or_child' } })
  info({ agent_id }: ParamsOut<typeof agentInfo>): Promise<HandlerResult<typeof agentInfo>> {
    return this.records.infoWithCosts(agent_id);
  }

  @Handles(agentSendMessage, { agentParams: { agent_id: 'agent_recipient' } })
  async send({ agent_id, message }: ParamsOut<typeof agentSendMessage>): Promise<HandlerResult<typeof agentSendMessage>> {
    return { status: 'sent', agent_id, message_id: await this.inboxes.enqueue(agent_id, message) };
  }

  @Handles(agentBroadcast, { agentParams: { sender: 'self' } })
  async broadcast({ message, sender }: ParamsOut<typeof agentBroadcast>, context: EventContext): Promise<HandlerResult<typeof agentBroadcast>> {
    return { status: 'broadcast', ...(await this.inboxes.broadcast(message, context.agentId ?? sender, (agentId) => this.guards.messageDenial(context, agentId, true) === undefined)) };
  }

  @Handles(agentDiscoverPeers, { agentParams: { agent_id: 'self' } })
  async peers({ agent_id, capabilities, roles }: ParamsOut<typeof agentDiscoverPeers>, context: EventContext): Promise<HandlerResult<typeof agentDiscoverPeers>> {
    const self = context.agentId ?? agent_id;
    const peers = (await this.records.list())
      .filter((agent) => agent.agent_id !== self && agent.status !== 'stopped')
      .filter((agent) => capabilities.length === 0 || capabilities.some((capability) => agent.capabilities.includes(capability)))
      .filter((agent) => roles.length === 0 || roles.includes(agent.role))
      .map((agent) => seenBy(agent, context));
    return { status: 'success', requesting_agent: self ?? null, peers, discovered_count: peers.length };
  }

  @Handles(agentInbox)
  async inbox({ agent_id, message }: ParamsOut<typeof agentInbox>): Promise<HandlerResult<typeof agentInbox>> {
    return { message_id: await this.inboxes.enqueue(agent_id, message) };
  }

  @Handles(checkpointCollect)
  async collect(): Promise<HandlerResult<typeof checkpointCollect>> {
    return { module: 'agent', agents: (await this.records.list()).map(({ agent_id, status, session_id, pending_messages }) => ({ agent_id, status, session_id, pending_messages })) };
  }

  @Handles(agentProfile)
  async profile({ agent_id }: ParamsOut<typeof agentProfile>): Promise<HandlerResult<typeof agentProfile>> {
    const { profile, created_at } = await this.records.info(agent_id);
    return { profile, created_at };
  }

  @Handles(agentBridgeConfig)
  async bridgeConfig({ agent_id }: ParamsOut<typeof agentBridgeConfig>): Promise<HandlerResult<typeof agentBridgeConfig>> {
    return { path: await this.bridges.configHere(agent_id) };
  }

  @Handles(agentFindIdle)
  async findIdle({ capabilities }: ParamsOut<typeof agentFindIdle>, context: EventContext): Promise<HandlerResult<typeof agentFindIdle>> {
    // A task for an agent to give: only to one it may message.
    const agentId = await this.records.findIdle(capabilities, (candidate) => this.guards.messageDenial(context, candidate, true) === undefined);
    return agentId ? { agent_id: agentId } : undefined;
  }
}

/**
 * An agent as a caller may see it in a list: another agent's session (which completion:async could
 * resume), workspace and failed prompts are that agent's business and its parent's, read through
 * agent:info; the operator sees everything.
 */
function seenBy(agent: AgentInfo, context: EventContext): AgentInfo {
  if (context.agentId === undefined || context.agentId === agent.agent_id) return agent;
  return { ...agent, session_id: null, sandbox: null, failed_turns: [] };
}
