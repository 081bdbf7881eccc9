import { Inject, Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Logger } from 'pino';
import { parse } from 'yaml';
import {
  agentSendMessage,
  agentSpawn,
  agentTerminate,
  isSafeId,
  orchestrationMessage,
  orchestrationStarted,
  orchestrationTerminated,
  type HandlerResult,
  type OrchestrationSummary,
  type PatternDocument,
  type TranscriptTurn,
} from '../../../libs/client/src';
import { CLOCK, type Clock } from '../../common/clock';
import { substitute } from '../../common/placeholders';
import { KSI_CONFIG, type KsiConfig } from '../../config/config';
import picomatch from 'picomatch';
import { EventBus } from '../../events/event-bus';
import { EventTap } from '../../events/event-tap';
import type { EventContext } from '../../events/event-context';
import { EventError } from '../../events/event-error';
import { DAEMON_LOG } from '../../logging/logger';

/** A pattern file: load() checks the parts PatternDocument names; the rest is read as written. */
interface Pattern extends PatternDocument {
  variables?: Record<string, { default?: unknown }>;
  agents: Record<string, { profile: string; vars?: Record<string, unknown> }>;
  coordination: PatternDocument['coordination'] & { termination?: { rounds?: number | string; timeout_seconds?: number | string; event?: string } };
}

/** An instance: what orchestration:status shows (CONTRACT §3: state running | terminated), and what it runs with. */
interface Instance extends OrchestrationSummary {
  transcript: TranscriptTurn[];
  timer?: NodeJS.Timeout;
  stopWatching?: () => void;
  /** The termination under way (no more routing), which every caller of terminate() awaits. */
  ending?: Promise<Instance>;
}

/**
 * Runs orchestration patterns: spawns the pattern's agents, starts the first turn, and routes each
 * agent's reply to the next agent in strict turn order until the rounds are done or time runs out.
 * Finished instances stay listed with the reason they ended.
 */
@Injectable()
export class OrchestrationService {
  private readonly instances = new Map<string, Instance>();
  readonly patternsDir: string;

  constructor(
    @Inject(KSI_CONFIG) config: KsiConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(DAEMON_LOG) private readonly log: Logger,
    private readonly bus: EventBus,
    private readonly tap: EventTap,
  ) {
    this.patternsDir = path.join(config.libDir, 'compositions', 'orchestrations');
  }

  patterns(): string[] {
    return fs.existsSync(this.patternsDir) ? fs.readdirSync(this.patternsDir).filter((file) => /\.ya?ml$/.test(file)).map((file) => file.replace(/\.ya?ml$/, '')).sort() : [];
  }

  load(name: string): Pattern {
    const file = isSafeId(name) ? ['yaml', 'yml'].map((ext) => path.join(this.patternsDir, `${name}.${ext}`)).find((candidate) => fs.existsSync(candidate)) : undefined;
    if (!file) throw new EventError('not_found', `Pattern not found: ${name} (known: ${this.patterns().join(', ')})`);
    const pattern = parse(fs.readFileSync(file, 'utf8')) as Pattern;
    const order = pattern?.coordination?.turn_order;
    if (!pattern?.agents || !Array.isArray(order) || order.some((agent) => !pattern.agents[agent]) || typeof pattern.coordination.start !== 'string') {
      throw new EventError('invalid_pattern', `${path.basename(file)}: needs agents, coordination.turn_order naming them, and coordination.start`);
    }
    // Agent names become parts of agent ids, and so of folder names.
    const unsafe = Object.keys(pattern.agents).filter((agent) => !isSafeId(agent) || agent.length > 100);
    if (unsafe.length > 0) throw new EventError('invalid_pattern', `${path.basename(file)}: agent names ${unsafe.join(', ')} must be 1-100 letters, digits, . _ -, starting with a letter or digit`);
    return pattern;
  }

  async start(patternName: string, given: Record<string, unknown>, context: EventContext): Promise<Instance> {
    const raw = this.load(patternName);
    const vars = { ...Object.fromEntries(Object.entries(raw.variables ?? {}).map(([name, v]) => [name, v.default])), ...given };
    const pattern = substitute(raw, vars) as Pattern;
    const id = `orch_${randomBytes(4).toString('hex')}`;
    const agents: Record<string, string> = {};
    for (const [name, spec] of Object.entries(pattern.agents)) {
      const agentId = `${id}_${name}`;
      await this.bus.requestOne(agentSpawn, { profile: spec.profile, agent_id: agentId, context: { ...vars, ...spec.vars, orchestration_id: id } }, context);
      agents[name] = agentId;
    }
    const instance: Instance = {
      orchestration_id: id,
      pattern: patternName,
      state: 'running',
      reason: null,
      agents,
      turn_order: pattern.coordination.turn_order.map((name) => agents[name]),
      turn: 0,
      rounds: Number(pattern.coordination.termination?.rounds ?? 1),
      message_count: 0,
      started_at: this.clock.now() / 1000,
      ended_at: null,
      transcript: [],
    };
    const timeout = Number(pattern.coordination.termination?.timeout_seconds ?? 0);
    if (timeout > 0) instance.timer = setTimeout(() => void this.terminate(id, 'timeout'), timeout * 1000).unref();
    const endEvent = pattern.coordination.termination?.event;
    if (endEvent) {
      // Termination by event: the first event whose name matches ends the instance.
      const matches = picomatch(endEvent);
      instance.stopWatching = this.tap.observe((record) => {
        if (instance.state === 'running' && !instance.ending && matches(record.event_name)) void this.terminate(id, `event:${record.event_name}`);
      });
    }
    this.instances.set(id, instance);
    this.bus.emit(orchestrationStarted, { orchestration_id: id, pattern: patternName, agents });
    await this.bus.requestOne(agentSendMessage, { agent_id: instance.turn_order[0], message: { prompt: pattern.coordination.start } }, context);
    return instance;
  }

  /** An agent's reply: if it was its turn, it goes to the next agent; the rounds decide the end. */
  async route(agentId: string, text: string): Promise<HandlerResult<typeof orchestrationMessage>> {
    const instance = [...this.instances.values()].find((candidate) => candidate.state === 'running' && !candidate.ending && candidate.turn_order.includes(agentId));
    if (!instance) return { status: 'blocked' };
    if (instance.turn_order[instance.turn] !== agentId) {
      this.log.warn({ orchestration_id: instance.orchestration_id, agent_id: agentId }, 'reply out of turn ignored');
      return { status: 'blocked' };
    }
    instance.message_count++;
    instance.transcript.push({ agent_id: agentId, text, at: this.clock.now() / 1000 });
    if (instance.message_count >= instance.rounds * instance.turn_order.length) {
      await this.terminate(instance.orchestration_id, 'rounds');
      return { status: 'terminated' };
    }
    instance.turn = (instance.turn + 1) % instance.turn_order.length;
    const next = instance.turn_order[instance.turn];
    const speaker = Object.entries(instance.agents).find(([, id]) => id === agentId)?.[0] ?? agentId;
    await this.bus.requestOne(agentSendMessage, { agent_id: next, message: { prompt: `${speaker}: ${text}`, from: agentId, orchestration_id: instance.orchestration_id } });
    return { status: 'routed', to: next };
  }

  /** Resolves once every agent of the instance is terminated; only then is its state `terminated`. */
  terminate(id: string, reason: string): Promise<Instance> {
    const instance = this.get(id);
    if (instance.state === 'terminated') return Promise.resolve(instance);
    instance.ending ??= this.end(instance, reason);
    return instance.ending;
  }

  private async end(instance: Instance, reason: string): Promise<Instance> {
    clearTimeout(instance.timer);
    instance.stopWatching?.();
    for (const agentId of Object.values(instance.agents)) await this.bus.request(agentTerminate, { agent_id: agentId });
    instance.state = 'terminated';
    instance.reason = reason;
    instance.ended_at = this.clock.now() / 1000;
    this.bus.emit(orchestrationTerminated, { orchestration_id: instance.orchestration_id, reason });
    return instance;
  }

  get(id: string): Instance {
    const instance = this.instances.get(id);
    if (!instance) throw new EventError('not_found', `Orchestration not found: ${id}`);
    return instance;
  }

  all(): Instance[] {
    return [...this.instances.values()];
  }

  summary(instance: Instance): OrchestrationSummary {
    const { timer: _timer, transcript: _transcript, stopWatching: _watch, ending: _ending, ...rest } = instance;
    return rest;
  }
}
