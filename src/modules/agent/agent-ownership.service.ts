import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import type { Logger } from 'pino';
import {
  agentAdopted,
  clusterNodes,
  completionAdoptAgent,
  messageConnect,
  systemReady,
} from '../../../libs/client/src';
import { KSI_CONFIG, type KsiConfig } from '../../config/config';
import { EventBus } from '../../events/event-bus';
import { UPKEEP } from '../../events/event-context';
import { Listens } from '../../events/handles.decorator';
import { ShutdownHandler } from '../../lifecycle/shutdown-handler.decorator';
import { DAEMON_LOG } from '../../logging/logger';
import { AgentBridges } from './agent-bridges.service';
import { AgentMessageRepository } from './agent-message.repository';
import { AgentTurns } from './agent-turns.service';
import { AgentRepository } from './agent.repository';
import { TurnOutcomes } from './turn-outcomes.service';

/**
 * Which node runs each agent. Agents outlive the daemon: at start this node takes its own and those
 * no node holds (on SQLite, every one). Nodes sharing a PostgreSQL database also take the agents of
 * nodes not alive (heartbeat older than KSI_LEASE_TTL_MS, or forgotten), looking every third of it,
 * and those a stopping node let go, when it says so. An agent taken over keeps its inbox and session; its turn
 * in flight reports here from then on, or is settled here if it ended while nobody held the agent.
 */
@Injectable()
export class AgentOwnership implements OnModuleInit {
  /** The agents this node runs. */
  private readonly held = new Set<string>();
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private adopting: Promise<void> = Promise.resolve();

  constructor(
    @Inject(KSI_CONFIG) private readonly config: KsiConfig,
    @Inject(DAEMON_LOG) private readonly log: Logger,
    private readonly bus: EventBus,
    private readonly agents: AgentRepository,
    private readonly messages: AgentMessageRepository,
    private readonly turns: AgentTurns,
    private readonly outcomes: TurnOutcomes,
    private readonly bridges: AgentBridges,
  ) {}

  private get clustered(): boolean {
    return this.config.node.clustered;
  }

  onModuleInit(): void {
    this.agents.onAnnounced((note) => {
      if (note.to === this.config.node.id && note.agentId) void this.turns.next(note.agentId);
      else if (note.to === undefined && !this.stopped) this.adopt();
    });
    // A missed note may have asked for a turn of an agent run here, or let agents go.
    this.agents.onSignalsMissed(() => {
      if (this.stopped) return;
      this.adopt();
      for (const agentId of this.held) void this.turns.next(agentId);
    });
  }

  @Listens(systemReady)
  async start(): Promise<void> {
    this.adopt();
    await this.adopting;
    if (this.clustered) this.timer = setInterval(() => this.adopt(), this.config.node.leaseTtlMs / 3).unref();
  }

  /** A spawned agent runs here. */
  hold(agentId: string): void {
    this.held.add(agentId);
  }

  /** A terminated agent runs nowhere. */
  forget(agentId: string): void {
    this.held.delete(agentId);
  }

  /** The other nodes take this node's agents at once, rather than once it is found dead. */
  @ShutdownHandler('agents')
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    if (!this.clustered) return;
    await this.adopting;
    await this.agents.release();
    await this.agents.announce({});
  }

  /** One adoption at a time. */
  private adopt(): void {
    this.adopting = this.adopting
      .then(() => this.adoptNow())
      .catch((error: Error) => this.log.warn({ err: error.message }, 'agents not adopted; looking again at the next heartbeat'));
  }

  private async adoptNow(): Promise<void> {
    if (this.stopped) return;
    const alive = this.clustered ? await this.aliveNodes() : [];
    const adopted = await this.agents.adopt(alive, !this.clustered);
    // An agent another node took meanwhile (this one was thought dead) is no longer run here.
    const mine = new Set(adopted.map(({ agentId }) => agentId));
    for (const agentId of this.held) if (!mine.has(agentId)) this.held.delete(agentId);
    for (const { agentId, previous } of adopted) {
      if (this.held.has(agentId) && previous === this.config.node.id) continue;
      this.held.add(agentId);
      await this.takeOver(agentId, previous, alive).catch((error: Error) => {
        this.held.delete(agentId);
        this.log.error({ agent_id: agentId, err: error.message }, 'adopted agent not started; trying again at the next look');
      });
    }
  }

  /** The nodes not dead: a node forgotten from the list (silent for a day) counts as dead too. */
  private async aliveNodes(): Promise<string[]> {
    const { nodes } = await this.bus.requestOne(clusterNodes, { include_dead: true }, UPKEEP);
    return nodes.filter((node) => node.status !== 'dead').map((node) => node.node_id);
  }

  private async takeOver(agentId: string, previous: string | null, alive: string[]): Promise<void> {
    const agent = await this.agents.find(agentId);
    if (!agent) return;
    // A spent budget is checked again by the next turn: a new period may have begun while nobody ran the agent.
    if (agent.status === 'failed' || agent.status === 'budget_exhausted') await this.agents.setStatus(agentId, 'idle');
    // Its MCP config here now rather than at its first turn here: taken from another node, with a new token,
    // so bridges with the old one end at once.
    await (previous !== null && previous !== this.config.node.id ? this.bridges.takenFromAnotherNode(agentId) : this.bridges.configHere(agentId));
    // What its calls waited for on another node will be answered there no more.
    this.bus.emit(agentAdopted, { agent_id: agentId, node_id: this.config.node.id });
    await this.turns.withoutTurns(agentId, () => this.settleInFlight(agentId, alive));
    await this.bus.request(messageConnect, { agent_id: agentId });
    void this.turns.next(agentId);
  }

  /**
   * The agent's turn in flight when its node went: its completion reports here from now on; one that
   * ended meanwhile is settled here; one never queued (the node died after claiming the message) goes
   * back to the inbox. A message is claimed with its request's id, so its turn is never queued twice.
   */
  private async settleInFlight(agentId: string, alive: string[]): Promise<void> {
    const inFlight = await this.messages.inFlight(agentId);
    const requestIds = inFlight.flatMap(({ requestId }) => (requestId === null ? [] : [requestId]));
    const { ended, unknown } = await this.bus.requestOne(completionAdoptAgent, { agent_id: agentId, request_ids: requestIds, alive_nodes: alive });
    for (const end of ended) {
      if (end.status === 'completed' && end.result) await this.outcomes.onResult({ request_id: end.request_id, session_id: end.result_session_id, result: end.result });
      else if (end.status === 'failed' && end.failure) {
        await this.outcomes.onError({ request_id: end.request_id, session_id: end.session_id, error: end.failure.message, code: end.failure.code, attempts: end.attempts });
      } else if (end.status === 'cancelled') await this.outcomes.onCancelled({ request_id: end.request_id, session_id: end.session_id });
    }
    // Claimed by a KSI older than request ids chosen at the claim (null), or claimed and never queued.
    const neverQueued = inFlight.filter(({ requestId }) => requestId === null || unknown.includes(requestId)).map(({ id }) => id);
    if (neverQueued.length > 0) {
      await this.messages.requeue(agentId, neverQueued);
      await this.agents.idleWithoutReply(agentId);
    }
  }
}
