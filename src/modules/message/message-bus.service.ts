import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { agentFindIdle, agentInbox, isErrorResult, messageDelivered, type BusMessage, type MessageBusStats, type PublishOutcome } from '../../../libs/client/src';
import type { Logger } from 'pino';
import { CLOCK, type Clock } from '../../common/clock';
import { KSI_CONFIG, type KsiConfig } from '../../config/config';
import { EventBus } from '../../events/event-bus';
import type { ClientConnection, EventContext } from '../../events/event-context';
import { EventError } from '../../events/event-error';
import { RequestGuards } from '../../events/request-guard';
import { ShutdownHandler } from '../../lifecycle/shutdown-handler.decorator';
import { DAEMON_LOG } from '../../logging/logger';
import { BusMessageRepository, type PublishedNote } from './bus-message.repository';

/** Messages kept in the history (offline messages are kept until delivered, whatever their age). */
const HISTORY = 10_000;

interface Subscriber {
  id: string;
  types: Set<string>;
  /** A socket connection receives pushed lines; without one, the subscriber is a managed agent. */
  connection?: ClientConnection;
}

/**
 * Pub/sub between agents and clients. Subscribers are socket connections (lines pushed as
 * message:delivered) and managed agents (raised as agent:inbox for the agent module). A direct
 * message to someone not connected here is stored and delivered, in order, when they connect or
 * subscribe; nodes sharing a PostgreSQL database announce each message, so a recipient connected to
 * another node takes it from its inbox there, and subscribers on every node receive what is published.
 */
@Injectable()
export class MessageBusService implements OnModuleInit {
  private readonly subscribers = new Map<string, Subscriber>();
  /** Managed agents that are running (message:connect): direct messages reach them without a subscription. */
  private readonly agents = new Set<string>();
  private published = 0;

  constructor(
    private readonly messages: BusMessageRepository,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(KSI_CONFIG) private readonly config: KsiConfig,
    @Inject(DAEMON_LOG) private readonly log: Logger,
    private readonly bus: EventBus,
    private readonly guards: RequestGuards,
  ) {}

  /** Messages published on other nodes sharing the database reach this node's subscribers and agents. */
  onModuleInit(): void {
    this.messages.onAnnounced((note) => {
      if (note.from !== this.config.node.id) void this.publishedElsewhere(note).catch((error: Error) => this.log.warn({ message_id: note.id, err: error.message }, 'message from another node not delivered'));
    });
    // Direct messages announced meanwhile wait in the inboxes of this node's subscribers and agents; missed broadcasts stay missed.
    this.messages.onSignalsMissed(() => {
      for (const id of new Set([...this.subscribers.keys(), ...this.agents])) {
        void this.deliverPending(id).catch((error: Error) => this.log.warn({ subscriber: id, err: error.message }, 'inbox not read after missed signals'));
      }
    });
  }

  async subscribe(types: string[], context: EventContext, agentId?: string): Promise<{ subscriber: string; delivered: number }> {
    const id = agentId ?? context.agentId ?? context.connection?.id;
    if (!id) throw new EventError('invalid_params', 'agent_id is required when no connection subscribes');
    const existing = this.subscribers.get(id);
    const connection = context.connection;
    this.subscribers.set(id, { id, types: new Set([...(existing?.types ?? []), ...types]), connection });
    if (connection && existing?.connection !== connection) connection.onClose(() => this.subscribers.get(id)?.connection === connection && this.subscribers.delete(id));
    return { subscriber: id, delivered: await this.deliverPending(id) };
  }

  unsubscribe(id: string, types?: string[]): string[] {
    const subscriber = this.subscribers.get(id);
    if (!subscriber) return [];
    const removed = types ?? [...subscriber.types];
    for (const type of removed) subscriber.types.delete(type);
    if (subscriber.types.size === 0) this.subscribers.delete(id);
    return removed;
  }

  async connect(agentId: string): Promise<number> {
    this.agents.add(agentId);
    return this.deliverPending(agentId);
  }

  disconnect(agentId: string): void {
    this.agents.delete(agentId);
  }

  subscriptions(id?: string): Record<string, string[]> {
    const entries = [...this.subscribers.values()].filter((subscriber) => id === undefined || subscriber.id === id);
    return Object.fromEntries(entries.map((subscriber) => [subscriber.id, [...subscriber.types]]));
  }

  async publish(type: string, body: Record<string, unknown>, from: string, to: string | undefined, context?: EventContext): Promise<PublishOutcome> {
    const message: BusMessage = { ...body, id: randomUUID(), type, from, ...(to && { to }), timestamp: this.clock.now() / 1000 };
    if (type === 'DIRECT_MESSAGE' || type === 'TASK_ASSIGNMENT') {
      const recipient = to ?? (type === 'TASK_ASSIGNMENT' ? await this.capableAgent(body, context) : undefined);
      if (!recipient) throw new EventError('invalid_params', type === 'TASK_ASSIGNMENT' ? 'No capable agent found' : 'A DIRECT_MESSAGE needs a recipient (to)');
      message.to = recipient;
      if (this.reachable(recipient)) {
        await this.record(message, null);
        this.deliver(recipient, message);
        return { status: 'delivered', id: message.id, delivered: [recipient], queued: [] };
      }
      // Whoever connects as the recipient later takes what waits for it: an agent leaves messages only for agents it may message.
      const denied = context && this.guards.messageDenial(context, recipient, true);
      if (denied) throw new EventError('permission_denied', denied);
      await this.record(message, recipient);
      // The recipient may be on another node: that node takes it from the inbox.
      this.announce({ id: message.id, to: recipient });
      return { status: 'queued', id: message.id, delivered: [], queued: [recipient] };
    }
    await this.record(message, null);
    this.announce({ id: message.id });
    // A broadcast reaches every subscriber but its sender, once; what an agent receives is never re-published.
    const targets = [...this.subscribers.values()].filter((subscriber) => subscriber.types.has(type) && subscriber.id !== from).map((subscriber) => subscriber.id);
    for (const target of targets) this.deliver(target, message);
    return { status: type === 'BROADCAST' ? 'broadcast' : 'published', id: message.id, delivered: targets, queued: [] };
  }

  async stats(): Promise<MessageBusStats> {
    const byType: Record<string, string[]> = {};
    for (const subscriber of this.subscribers.values()) for (const type of subscriber.types) (byType[type] ??= []).push(subscriber.id);
    return {
      connected_agents: [...this.agents],
      subscriptions: byType,
      offline_queues: await this.messages.pendingCounts(),
      history_size: await this.messages.count(),
    };
  }

  /** Rows are durable: nothing to flush. Subscriptions end with their connections. */
  @ShutdownHandler('message_bus')
  stop(): void {
    this.agents.clear();
  }

  private reachable(id: string): boolean {
    return this.agents.has(id) || this.subscribers.get(id)?.connection?.closed === false;
  }

  /**
   * A message addressed to a running managed agent goes to its durable inbox, one turn each, even when
   * a connection of its own subscribed (its `ksi mcp` bridge offers message:subscribe and reads no
   * pushes). What it subscribed to is pushed as to any subscriber: results of other agents made into
   * turns would answer each other forever.
   */
  private deliver(id: string, message: BusMessage): boolean {
    const connection = this.subscribers.get(id)?.connection;
    const addressedToAgent = message.to === id && this.agents.has(id);
    if (connection && !addressedToAgent) return !connection.closed && connection.push(messageDelivered, message);
    if (this.agents.has(id) || this.subscribers.has(id)) {
      void this.bus.request(agentInbox, { agent_id: id, message });
      return true;
    }
    return false;
  }

  /** Stored messages for `id`, oldest first, each delivered once whichever node takes it; those that cannot go out wait again. */
  private async deliverPending(id: string): Promise<number> {
    const rows = await this.messages.takePending(id, this.clock.now());
    const unsent = rows.filter((row) => !this.deliver(id, JSON.parse(row.body) as BusMessage)).map((row) => row.id);
    if (unsent.length > 0) await this.messages.putBack(unsent);
    return rows.length - unsent.length;
  }

  /** A direct message waits in the inbox of a recipient that may be here; any other reaches this node's subscribers of its type. */
  private async publishedElsewhere(note: PublishedNote): Promise<void> {
    if (note.to !== undefined) {
      if (this.reachable(note.to)) await this.deliverPending(note.to);
      return;
    }
    const body = await this.messages.bodyOf(note.id);
    if (body === undefined) return;
    const message = JSON.parse(body) as BusMessage;
    for (const subscriber of this.subscribers.values()) if (subscriber.types.has(message.type) && subscriber.id !== message.from) this.deliver(subscriber.id, message);
  }

  private announce(note: Omit<PublishedNote, 'from'>): void {
    void this.messages.announce({ ...note, from: this.config.node.id }).catch((error: Error) => this.log.warn({ message_id: note.id, err: error.message }, 'message not announced to the other nodes'));
  }

  private record(message: BusMessage, recipient: string | null): Promise<void> {
    const prune = ++this.published % 100 === 0;
    const row = { id: message.id, type: message.type, body: JSON.stringify(message), recipient, createdAt: this.clock.now() };
    return this.messages.record(row, prune ? HISTORY : undefined);
  }

  private async capableAgent(body: Record<string, unknown>, context?: EventContext): Promise<string | undefined> {
    const capabilities = Array.isArray(body.required_capabilities) ? body.required_capabilities : [];
    const [found] = await this.bus.request(agentFindIdle, { capabilities }, context);
    return found === undefined || isErrorResult(found) ? undefined : found.agent_id;
  }
}
