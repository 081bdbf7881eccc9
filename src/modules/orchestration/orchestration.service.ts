import { Inject, Injectable, type BeforeApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Logger } from 'pino';
import picomatch from 'picomatch';
import { parse } from 'yaml';
import {
  agentSendMessage,
  agentSpawn,
  agentTerminate,
  isErrorResult,
  isSafeId,
  orchestrationMessage,
  orchestrationStarted,
  orchestrationTerminated,
  permissionGetAgent,
  systemReady,
  type HandlerResult,
  type OrchestrationSummary,
  type TranscriptTurn,
} from '../../../libs/client/src';
import { CLOCK, type Clock } from '../../common/clock';
import { KSI_CONFIG, type KsiConfig } from '../../config/config';
import { EventBus } from '../../events/event-bus';
import type { EventContext } from '../../events/event-context';
import { EventError } from '../../events/event-error';
import { EventTap } from '../../events/event-tap';
import { Listens } from '../../events/handles.decorator';
import { DAEMON_LOG } from '../../logging/logger';
import { instantiate, type Pattern } from './orchestration-pattern';
import type { OrchestrationRow } from './orchestration.entity';
import { OrchestrationRepository } from './orchestration.repository';

/** A turn handed to the next agent: agent:send_message's params. */
interface PendingTurn {
  agent_id: string;
  message: Record<string, unknown>;
}

/** An agent's reply (agent:result) that could not be routed yet. */
interface Reply {
  agentId: string;
  text: string;
  inReplyTo?: Record<string, unknown>;
}

/** At most this many replies wait to be routed again; beyond, the oldest is given up (and logged). */
const MAX_UNROUTED = 1_000;

/** The longest a timer may wait (setTimeout's limit); a later timeout is looked at again then. */
const LONGEST_TIMER_MS = 2 ** 31 - 1;

/**
 * Runs orchestration patterns: spawns the pattern's agents, starts the first turn, and routes each
 * agent's reply to the next agent in strict turn order until the rounds are done, time runs out or
 * the end event happens. Instances live in the database, so whichever node hears an agent's reply
 * routes it (a route is written only if no other came first), and an instance goes on when the node
 * that started it stops or dies. Finished instances stay listed with the reason they ended.
 */
@Injectable()
export class OrchestrationService implements OnModuleInit, BeforeApplicationShutdown {
  readonly patternsDir: string;
  /** Running instances with an end event, by id: every node watches its own events for them. */
  private watched = new Map<string, (eventName: string) => boolean>();
  private stopWatching?: () => void;
  private timeoutTimer?: NodeJS.Timeout;
  private upkeepTimer?: NodeJS.Timeout;
  /** One look at the running instances at a time, so a later look never loses to an earlier one. */
  private looking: Promise<void> = Promise.resolve();
  /** Endings this node carries out, which every terminate() of the same instance here awaits. */
  private readonly endings = new Map<string, Promise<void>>();
  private stopped = false;
  /** Replies whose route failed (the database refused or could not be reached), routed again at each look, oldest first. */
  private readonly unrouted: Reply[] = [];
  /** Epoch ms this daemon started: on SQLite, a turn pending since before then was left by a previous run. */
  private readonly startedAt: number;

  constructor(
    @Inject(KSI_CONFIG) private readonly config: KsiConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(DAEMON_LOG) private readonly log: Logger,
    private readonly bus: EventBus,
    private readonly tap: EventTap,
    private readonly repo: OrchestrationRepository,
  ) {
    this.patternsDir = path.join(config.libDir, 'compositions', 'orchestrations');
    this.startedAt = clock.now();
  }

  onModuleInit(): void {
    this.repo.onAnnounced(() => this.lookAgain());
    this.repo.onSignalsMissed(() => this.lookAgain());
  }

  /** Picks up the instances a previous run or another node left: their timeouts, end events, and turns not handed on. */
  @Listens(systemReady)
  async resume(): Promise<void> {
    await this.upkeep();
    this.upkeepTimer = setInterval(() => void this.upkeep(), this.config.node.leaseTtlMs / 3).unref();
  }

  beforeApplicationShutdown(): void {
    this.stopped = true;
    clearInterval(this.upkeepTimer);
    clearTimeout(this.timeoutTimer);
    this.stopWatching?.();
  }

  patterns(): string[] {
    return fs.existsSync(this.patternsDir) ? fs.readdirSync(this.patternsDir).filter((file) => /\.ya?ml$/.test(file)).map((file) => file.replace(/\.ya?ml$/, '')).sort() : [];
  }

  load(name: string): Pattern {
    return this.read(name).pattern;
  }

  private read(name: string): { file: string; pattern: Pattern } {
    const found = isSafeId(name) ? ['yaml', 'yml'].map((ext) => path.join(this.patternsDir, `${name}.${ext}`)).find((candidate) => fs.existsSync(candidate)) : undefined;
    if (!found) throw new EventError('not_found', `Pattern not found: ${name} (known: ${this.patterns().join(', ')})`);
    const file = path.basename(found);
    const pattern = parse(fs.readFileSync(found, 'utf8')) as Pattern;
    const order = pattern?.coordination?.turn_order;
    if (!pattern?.agents || !Array.isArray(order) || order.some((agent) => !pattern.agents[agent]) || typeof pattern.coordination.start !== 'string') {
      throw new EventError('invalid_pattern', `${file}: needs agents, coordination.turn_order naming them, and coordination.start`);
    }
    // Agent names become parts of agent ids, and so of folder names.
    const unsafe = Object.keys(pattern.agents).filter((agent) => !isSafeId(agent) || agent.length > 100);
    if (unsafe.length > 0) throw new EventError('invalid_pattern', `${file}: agent names ${unsafe.join(', ')} must be 1-100 letters, digits, . _ -, starting with a letter or digit`);
    return { file, pattern };
  }

  /** Spawns the pattern's agents and records the instance; `context` is who asked (an agent, or the operator), recorded as its starter. */
  async start(patternName: string, given: Record<string, unknown>, context: EventContext): Promise<OrchestrationSummary> {
    const { file, pattern: raw } = this.read(patternName);
    // Checked before any agent is spawned: a variable of the wrong type fails here, not halfway.
    const { pattern, vars } = instantiate(patternName, file, raw, given);
    const { termination } = pattern.coordination;
    const id = `orch_${randomBytes(4).toString('hex')}`;
    const agents = await this.spawnAgents(id, pattern.agents, vars, context);
    const turnOrder = pattern.coordination.turn_order.map((name) => agents[name]);
    const now = this.clock.now();
    const first: PendingTurn = { agent_id: turnOrder[0], message: { prompt: pattern.coordination.start, orchestration_id: id, orchestration_turn: 0 } };
    const row: OrchestrationRow = {
      orchestrationId: id,
      pattern: patternName,
      state: 'running',
      reason: null,
      agents: JSON.stringify(agents),
      turnOrder: JSON.stringify(turnOrder),
      turn: 0,
      rounds: termination.rounds,
      messageCount: 0,
      startedAt: now,
      endedAt: null,
      timeoutAt: termination.timeout_seconds > 0 ? now + termination.timeout_seconds * 1000 : null,
      endEvent: termination.event ?? null,
      pendingTurn: JSON.stringify(first),
      pendingSince: now,
      startedBy: context.agentId ?? null,
    };
    await this.repo.insert(row).catch(async (error: unknown) => {
      // Nothing would ever end the agents of an instance that was not recorded.
      await this.terminateAgents(id, Object.values(agents));
      throw error;
    });
    // Watching starts before the first turn: an end event may follow it at once.
    await this.changed();
    this.bus.emit(orchestrationStarted, { orchestration_id: id, pattern: patternName, agents });
    // The instance exists now: a first turn not handed on is handed on by upkeep.
    await this.handOn(id, 0, first, context).catch((error: Error) => this.log.error({ orchestration_id: id, err: error.message }, 'first turn not handed on yet; trying again at the next look'));
    return this.summary(row);
  }

  /** Spawns the pattern's agents, as `context` asks; when one fails, those spawned before it are terminated, since no instance owns them. */
  private async spawnAgents(id: string, specs: Record<string, { profile: string; vars?: Record<string, unknown> }>, vars: Record<string, unknown>, context: EventContext): Promise<Record<string, string>> {
    const agents: Record<string, string> = {};
    try {
      for (const [name, spec] of Object.entries(specs)) {
        const agentId = `${id}_${name}`;
        await this.bus.requestOne(agentSpawn, { profile: spec.profile, agent_id: agentId, context: { ...vars, ...spec.vars, orchestration_id: id } }, context);
        agents[name] = agentId;
      }
    } catch (error) {
      await this.terminateAgents(id, Object.values(agents));
      throw error;
    }
    return agents;
  }

  /** Terminates agents spawned for an instance that did not start; one that cannot be is logged, and the start's own error stands. */
  private async terminateAgents(id: string, agentIds: string[]): Promise<void> {
    for (const agentId of agentIds) {
      try {
        const [result] = await this.bus.request(agentTerminate, { agent_id: agentId });
        if (isErrorResult(result)) throw new EventError(result.code, result.error);
      } catch (error) {
        this.log.error({ orchestration_id: id, agent_id: agentId, err: (error as Error).message }, 'agent of an orchestration that failed to start not terminated');
      }
    }
  }

  /**
   * An agent's reply: if it was its turn, it goes to the next agent; the rounds decide the end. A
   * reply to a turn this instance handed on earlier (a turn handed on twice) is not routed.
   */
  async route(agentId: string, text: string, inReplyTo?: Record<string, unknown>): Promise<HandlerResult<typeof orchestrationMessage>> {
    const instance = (await this.repo.running()).find((candidate) => (JSON.parse(candidate.turnOrder) as string[]).includes(agentId));
    if (!instance) return { status: 'blocked' };
    const turnOrder = JSON.parse(instance.turnOrder) as string[];
    if (turnOrder[instance.turn] !== agentId) {
      this.log.warn({ orchestration_id: instance.orchestrationId, agent_id: agentId }, 'reply out of turn ignored');
      return { status: 'blocked' };
    }
    const id = instance.orchestrationId;
    if (inReplyTo?.orchestration_id === id && inReplyTo.orchestration_turn !== instance.messageCount) {
      this.log.warn({ orchestration_id: id, agent_id: agentId, turn: inReplyTo.orchestration_turn }, 'reply to an earlier turn ignored');
      return { status: 'blocked' };
    }
    const reply = { agentId, text, at: this.clock.now() };
    if (instance.messageCount + 1 >= instance.rounds * turnOrder.length) {
      if (!(await this.repo.route(id, instance.messageCount, reply, { turn: instance.turn, pendingTurn: null, ending: 'rounds' }))) return this.routedElsewhere(id, agentId);
      await this.finish(id);
      return { status: 'terminated' };
    }
    const turn = (instance.turn + 1) % turnOrder.length;
    const speaker = Object.entries(JSON.parse(instance.agents) as Record<string, string>).find(([, agent]) => agent === agentId)?.[0] ?? agentId;
    const next: PendingTurn = { agent_id: turnOrder[turn], message: { prompt: `${speaker}: ${text}`, from: agentId, orchestration_id: id, orchestration_turn: instance.messageCount + 1 } };
    if (!(await this.repo.route(id, instance.messageCount, reply, { turn, pendingTurn: JSON.stringify(next), ending: null }))) return this.routedElsewhere(id, agentId);
    await this.handOn(id, instance.messageCount + 1, next);
    return { status: 'routed', to: next.agent_id };
  }

  /**
   * An agent's reply heard on this node (agent:result). Unlike a request, nobody would send it again,
   * so one that cannot be routed now is kept and routed again at the next look.
   */
  async routeResult(reply: Reply): Promise<void> {
    if (this.unrouted.length === 0) {
      try {
        await this.route(reply.agentId, reply.text, reply.inReplyTo);
        return;
      } catch (error) {
        this.log.error({ agent_id: reply.agentId, err: (error as Error).message }, 'agent reply not routed; trying again at the next look');
      }
    }
    if (this.unrouted.push(reply) > MAX_UNROUTED) {
      const dropped = this.unrouted.shift()!;
      this.log.error({ agent_id: dropped.agentId }, `more than ${MAX_UNROUTED} agent replies not routed; the oldest is given up`);
    }
  }

  /** Routes the replies kept by routeResult, oldest first, until one fails again. */
  private async routeUnrouted(): Promise<void> {
    while (this.unrouted.length > 0 && !this.stopped) {
      const [reply] = this.unrouted;
      try {
        await this.route(reply.agentId, reply.text, reply.inReplyTo);
      } catch (error) {
        this.log.warn({ agent_id: reply.agentId, err: (error as Error).message, waiting: this.unrouted.length }, 'agent reply still not routed; trying again at the next look');
        return;
      }
      this.unrouted.shift();
    }
  }

  /**
   * Ends a running instance for `reason`; resolves once its agents are terminated. An agent (`caller`)
   * ends only the instances whose starter agent:terminate would let it end: itself, or an agent it
   * spawned when its profile allows spawn_agents. The operator ends any.
   */
  async terminate(id: string, reason: string, caller?: string): Promise<OrchestrationSummary> {
    const row = await this.find(id);
    if (caller !== undefined && !(await this.startedByOrFor(row, caller))) {
      const starter = row.startedBy === null ? 'the operator' : `agent ${row.startedBy}`;
      throw new EventError(
        'permission_denied',
        `Agent ${caller} may not terminate orchestration ${id}: ${starter} started it, and an agent terminates only the orchestrations it started, or (when its permission profile allows spawn_agents) those started by agents it spawned`,
      );
    }
    if (row.state === 'running') await this.repo.beginEnding(id, reason, this.clock.now());
    // Ending twice is harmless (terminating a terminated agent changes nothing): a request to terminate does not wait on another node.
    if (row.state !== 'terminated') await this.finish(id);
    return this.summary(await this.find(id));
  }

  /** Whether `agentId` started the instance, or spawned the agent that did and may manage what it spawned. */
  private async startedByOrFor(row: OrchestrationRow, agentId: string): Promise<boolean> {
    if (row.startedBy === agentId) return true;
    if (row.startedBy === null) return false;
    const [starter] = await this.bus.request(permissionGetAgent, { agent_id: row.startedBy });
    // A starter that is gone has no parent any more, as for agent:terminate.
    if (!starter || isErrorResult(starter) || starter.parent_id !== agentId) return false;
    const { permissions } = await this.bus.requestOne(permissionGetAgent, { agent_id: agentId });
    return permissions.capabilities.spawn_agents === true;
  }

  async get(id: string): Promise<OrchestrationSummary & { transcript: TranscriptTurn[] }> {
    const [row, turns] = await Promise.all([this.find(id), this.repo.transcript(id)]);
    return { ...this.summary(row), transcript: turns.map((turn) => ({ agent_id: turn.agentId, text: turn.text, at: turn.at / 1000 })) };
  }

  async summaryOf(id: string): Promise<OrchestrationSummary> {
    return this.summary(await this.find(id));
  }

  async all(): Promise<OrchestrationSummary[]> {
    return (await this.repo.all()).map((row) => this.summary(row));
  }

  private async find(id: string): Promise<OrchestrationRow> {
    const row = await this.repo.find(id);
    if (!row) throw new EventError('not_found', `Orchestration not found: ${id}`);
    return row;
  }

  /** CONTRACT §3: state running | terminated; an instance whose agents are being terminated still runs. Times in epoch seconds. */
  private summary(row: OrchestrationRow): OrchestrationSummary {
    return {
      orchestration_id: row.orchestrationId,
      pattern: row.pattern,
      state: row.state === 'terminated' ? 'terminated' : 'running',
      reason: row.state === 'terminated' ? row.reason : null,
      agents: JSON.parse(row.agents) as Record<string, string>,
      turn_order: JSON.parse(row.turnOrder) as string[],
      turn: row.turn,
      rounds: row.rounds,
      message_count: row.messageCount,
      started_at: row.startedAt / 1000,
      ended_at: row.endedAt === null ? null : row.endedAt / 1000,
      started_by: row.startedBy,
    };
  }

  private routedElsewhere(id: string, agentId: string): HandlerResult<typeof orchestrationMessage> {
    this.log.warn({ orchestration_id: id, agent_id: agentId }, 'reply already routed or instance ended meanwhile; ignored');
    return { status: 'blocked' };
  }

  /** Hands a written turn to its agent, then marks it handed on; one left pending is handed on by upkeep. */
  private async handOn(id: string, messageCount: number, turn: PendingTurn, context?: EventContext): Promise<void> {
    await this.bus.requestOne(agentSendMessage, turn, context);
    await this.repo.delivered(id, messageCount);
  }

  /** Terminates an ending instance's agents and records the end, once per node at a time. */
  private finish(id: string): Promise<void> {
    let ending = this.endings.get(id);
    if (!ending) {
      ending = this.end(id).finally(() => this.endings.delete(id));
      this.endings.set(id, ending);
    }
    return ending;
  }

  private async end(id: string): Promise<void> {
    const row = await this.find(id);
    if (row.state !== 'ending') return;
    for (const agentId of Object.values(JSON.parse(row.agents) as Record<string, string>)) await this.bus.request(agentTerminate, { agent_id: agentId });
    if (await this.repo.ended(id, this.clock.now())) {
      this.bus.emit(orchestrationTerminated, { orchestration_id: id, reason: row.reason ?? 'requested' });
      await this.changed();
    }
  }

  /** Ends an instance for a timeout or an end event, unless something else ended it first. */
  private async endFor(id: string, reason: string): Promise<void> {
    if (await this.repo.beginEnding(id, reason, this.clock.now())) await this.finish(id);
  }

  /** The running instances changed here: this node and the others look again (theirs also do every third of a TTL). */
  private async changed(): Promise<void> {
    this.lookAgain();
    await this.looking;
    await this.repo.announce().catch((error: Error) => this.log.warn({ err: error.message }, 'orchestration change not announced to the other nodes'));
  }

  private lookAgain(): void {
    this.looking = this.looking.then(() => this.watch()).catch((error: Error) => this.log.warn({ err: error.message }, 'running orchestrations not read; looking again later'));
  }

  /** Watches for the end events of the running instances, and wakes at the soonest timeout. */
  private async watch(): Promise<void> {
    if (this.stopped) return;
    const running = await this.repo.running();
    this.watched = new Map(running.flatMap((row) => (row.endEvent === null ? [] : [[row.orchestrationId, picomatch(row.endEvent)] as const])));
    if (this.watched.size > 0) this.stopWatching ??= this.tap.observe((record) => this.onEvent(record.event_name));
    else {
      this.stopWatching?.();
      this.stopWatching = undefined;
    }
    clearTimeout(this.timeoutTimer);
    const soonest = Math.min(...running.map((row) => row.timeoutAt ?? Infinity));
    if (soonest !== Infinity) this.timeoutTimer = setTimeout(() => void this.endTimedOut(), Math.min(Math.max(0, soonest - this.clock.now()), LONGEST_TIMER_MS)).unref();
  }

  private onEvent(eventName: string): void {
    for (const [id, matches] of this.watched) {
      if (!matches(eventName)) continue;
      // The first matching event ends it; those that follow (its own ending's events too) do not.
      this.watched.delete(id);
      void this.endFor(id, `event:${eventName}`).catch((error: Error) => this.log.error({ orchestration_id: id, err: error.message }, 'orchestration not ended'));
    }
  }

  private async endTimedOut(): Promise<void> {
    try {
      const now = this.clock.now();
      for (const row of await this.repo.running()) if (row.timeoutAt !== null && row.timeoutAt <= now) await this.endFor(row.orchestrationId, 'timeout');
    } catch (error) {
      this.log.error({ err: (error as Error).message }, 'timed-out orchestrations not ended; trying again at the next look');
    }
    this.lookAgain();
  }

  /**
   * Routes the replies this node could not route yet. Finishes what was left half done: turns written
   * but never handed to their agent, and endings whose agents may still run, once they are two lease
   * TTLs old (their node is presumed gone, or its attempt failed), on one node at a time; on SQLite
   * also at once those a previous run left.
   */
  private async upkeep(): Promise<void> {
    await this.routeUnrouted();
    const twoTtlsAgo = this.clock.now() - 2 * this.config.node.leaseTtlMs;
    const before = this.config.node.clustered ? twoTtlsAgo : Math.max(this.startedAt, twoTtlsAgo);
    try {
      await this.repo.exclusively(async () => {
        for (const row of await this.repo.stale(before)) {
          if (this.stopped) return;
          const id = row.orchestrationId;
          try {
            if (row.state === 'ending') await this.finish(id);
            else if (row.pendingTurn !== null) {
              this.log.info({ orchestration_id: id }, 'handing on a turn its node left pending');
              await this.handOn(id, row.messageCount, JSON.parse(row.pendingTurn) as PendingTurn);
            }
          } catch (error) {
            this.log.error({ orchestration_id: id, err: (error as Error).message }, 'orchestration left half done not finished; trying again at the next look');
          }
        }
      });
    } catch (error) {
      this.log.error({ err: (error as Error).message }, 'orchestration upkeep failed; trying again at the next look');
    }
    await this.endTimedOut();
  }
}
