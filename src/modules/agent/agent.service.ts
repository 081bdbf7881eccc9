import { Inject, Injectable } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import type { Database } from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { MODEL_FORMAT, parseModel, systemReady, type AgentInfo, type AgentStatus, type ComposedProfile, type CostTotals, type agentSpawnParams, type z } from '../../../libs/client/src';
import { CLOCK, type Clock } from '../../common/clock';
import { SQLITE } from '../../database/sqlite.provider';
import { WriteQueue } from '../../database/write-queue';
import { EventBus } from '../../events/event-bus';
import { internalContext, type EventContext } from '../../events/event-context';
import { EventError } from '../../events/event-error';
import { Listens } from '../../events/handles.decorator';
import { DAEMON_LOG } from '../../logging/logger';

interface AgentRow {
  agent_id: string;
  profile: string;
  status: AgentStatus;
  session_id: string | null;
  config: string;
  sandbox_dir: string | null;
  mcp_config_path: string | null;
  restarts: number;
  created_at: number;
}
interface AgentConfig {
  model: string;
  prompt: string;
  role: string;
  capabilities: string[];
  permission_profile: string;
  /** The repository the agent's workspace is a worktree of, if any: a restart checks its branch out again. */
  repository?: string;
}
interface CompletionEnd {
  request_id: string;
  session_id?: string | null;
  result?: { response?: { result?: unknown } };
  error?: string;
  code?: string;
}
interface FailedRow {
  id: number;
  message: string;
  error: string | null;
  error_code: string | null;
  failed_at: number | null;
}

/** Restarts after failures, like pm2: 1 s, 2 s, 4 s … up to this many, then the agent stays failed. */
const MAX_RESTARTS = 5;
/** Failed turns agent:info lists (the count covers all of them). */
const FAILED_TURNS_SHOWN = 10;

/**
 * Managed agents: a durable record and a durable inbox. Each message becomes one completion on the
 * agent's session (the composed profile's model; its prompt as system prompt on the first turn; its
 * permissions and sandbox through the completion module), and each reply's session becomes the
 * agent's, so the next turn resumes it. Results are published on the bus as AGENT_RESULT.
 */
@Injectable()
export class AgentService {
  private readonly pumping = new Set<string>();
  private readonly restartTimers = new Map<string, NodeJS.Timeout>();

  constructor(
    @Inject(SQLITE) private readonly db: Database,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(DAEMON_LOG) private readonly log: Logger,
    private readonly writes: WriteQueue,
    private readonly bus: EventBus,
  ) {}

  /** Agents outlive the daemon: at start every one that was not stopped runs again. */
  @Listens(systemReady)
  async adopt(): Promise<void> {
    for (const row of this.rows()) {
      if (row.status === 'stopped') continue;
      if (row.status === 'failed') await this.setStatus(row.agent_id, 'idle');
      await this.bus.request('message:connect', { agent_id: row.agent_id });
      void this.pump(row.agent_id);
    }
  }

  async spawn(params: z.output<typeof agentSpawnParams>, context: EventContext): Promise<AgentInfo & { token_written_to: string }> {
    const agentId = params.agent_id ?? `agent_${randomBytes(4).toString('hex')}`;
    if (this.row(agentId)) throw new EventError('already_exists', `Agent ${agentId} exists; terminate it first or pick another agent_id`);
    const name = params.composition ?? params.profile ?? (await this.selectProfile(params.selection_context, context));
    const { profile } = await this.bus.requestOne<{ profile: ComposedProfile }>('composition:profile', { name, variables: { ...params.context, agent_id: agentId } }, context);
    const model = params.config.model ?? profile.model;
    if (!parseModel(model)) throw new EventError('invalid_params', `Composition ${name} names the model ${JSON.stringify(model)}; use ${MODEL_FORMAT}, or give config.model`);
    const level = params.permission_profile ?? profile.permission_profile;
    await this.bus.requestOne('permission:set_agent', { agent_id: agentId, profile: level, ...(params.parent_id && { parent_id: params.parent_id }) }, context);
    const repository = params.sandbox_config.repository ?? (typeof profile.repository === 'string' ? profile.repository : undefined);
    const { sandbox } = await this.bus
      .requestOne<{ sandbox: { workspace: string } }>('sandbox:create', { agent_id: agentId, config: { ...params.sandbox_config, repository } }, context)
      .catch(async (error: unknown) => {
        // No agent without a workspace: the permissions just set go too (a bad repository, git failing).
        await this.bus.request('permission:remove_agent', { agent_id: agentId });
        throw error;
      });
    const { path: mcpConfig } = await this.bus.requestOne<{ path: string }>('mcp:agent_config', { agent_id: agentId }, context);
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
    await this.bus.request('message:connect', { agent_id: agentId }, context);
    return { ...this.info(agentId), token_written_to: mcpConfig };
  }

  private async selectProfile(selection: { role?: string; required_capabilities: string[]; task?: string }, context: EventContext): Promise<string> {
    const { selected } = await this.bus.requestOne<{ selected: string }>(
      'composition:select',
      { role: selection.role, capabilities: selection.required_capabilities, task: selection.task },
      context,
    );
    return selected;
  }

  /** Adds a message to the agent's inbox; it runs when the agent is idle, in order. */
  async enqueue(agentId: string, message: Record<string, unknown>): Promise<number> {
    const row = this.row(agentId);
    if (!row || row.status === 'stopped') throw new EventError('not_found', `Agent ${agentId} not found`);
    const id = await this.writes.run(
      (db) => db.prepare(`INSERT INTO agent_messages (agent_id, message, status, created_at) VALUES (?, ?, 'pending', ?)`).run(agentId, JSON.stringify(message), this.clock.now()).lastInsertRowid as number,
    );
    void this.pump(agentId);
    return Number(id);
  }

  /** A broadcast is delivered once to every other running agent and is never broadcast again. */
  async broadcast(message: Record<string, unknown>, sender: string): Promise<{ agents_reached: number; total_agents: number }> {
    const running = this.rows().filter((row) => row.status !== 'stopped' && row.agent_id !== sender);
    for (const row of running) await this.enqueue(row.agent_id, { ...message, type: 'broadcast', from: sender });
    return { agents_reached: running.length, total_agents: this.rows().length };
  }

  async terminate(agentId: string): Promise<void> {
    const row = this.row(agentId);
    if (!row) throw new EventError('not_found', `Agent ${agentId} not found`);
    clearTimeout(this.restartTimers.get(agentId));
    await this.setStatus(agentId, 'stopped');
    const running = this.db.prepare(`SELECT request_id FROM agent_messages WHERE agent_id = ? AND status = 'processing' AND request_id IS NOT NULL`).pluck().all(agentId) as string[];
    for (const requestId of running) await this.bus.request('completion:cancel', { request_id: requestId });
    await this.bus.request('message:disconnect', { agent_id: agentId });
    await this.bus.request('permission:remove_agent', { agent_id: agentId });
    await this.bus.request('sandbox:remove', { agent_id: agentId, force: true });
    await this.writes.run((db) => {
      db.prepare('DELETE FROM agent_messages WHERE agent_id = ?').run(agentId);
      db.prepare('DELETE FROM agents WHERE agent_id = ?').run(agentId);
    });
  }

  /** Terminate, then spawn from the same profile with the same id and session; pending and failed messages run again, in order. */
  async restart(agentId: string, context: EventContext): Promise<AgentInfo & { token_written_to: string }> {
    const row = this.row(agentId);
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
    for (const message of pending) await this.enqueue(agentId, message);
    return spawned;
  }

  list(status?: string): AgentInfo[] {
    return this.rows()
      .filter((row) => status === undefined || row.status === status)
      .map((row) => this.toInfo(row));
  }

  info(agentId: string): AgentInfo {
    const row = this.row(agentId);
    if (!row) throw new EventError('not_found', `Agent ${agentId} not found`);
    return this.toInfo(row);
  }

  /** An agent and what its completions cost, across its restarts (costs are recorded by the completion module). */
  async infoWithCosts(agentId: string): Promise<AgentInfo & { costs: CostTotals }> {
    const info = this.info(agentId);
    return { ...info, costs: await this.bus.requestOne<CostTotals>('cost:agent_totals', { agent_id: agentId }) };
  }

  /** The first idle agent with every capability (for TASK_ASSIGNMENT). */
  findIdle(capabilities: string[]): string | undefined {
    return this.list('idle').find((agent) => capabilities.every((capability) => agent.capabilities.includes(capability)))?.agent_id;
  }

  @OnEvent('completion:result')
  async onResult(end: CompletionEnd): Promise<void> {
    const item = this.itemFor(end.request_id);
    if (!item) return;
    await this.writes.run((db) => {
      db.prepare(`UPDATE agent_messages SET status = 'done' WHERE id = ?`).run(item.id);
      db.prepare(`UPDATE agents SET session_id = COALESCE(?, session_id), status = 'idle', restarts = 0 WHERE agent_id = ? AND status != 'stopped'`).run(end.session_id ?? null, item.agent_id);
    });
    const text = end.result?.response?.result;
    this.bus.emit('agent:result', { agent_id: item.agent_id, request_id: end.request_id, session_id: end.session_id ?? null, text: typeof text === 'string' ? text : '' });
    await this.bus
      .request('message:publish', { event_type: 'AGENT_RESULT', agent_id: item.agent_id, message: { request_id: end.request_id, session_id: end.session_id, text, in_reply_to: JSON.parse(item.message) } })
      .catch((error: Error) => this.log.warn({ err: error.message }, 'agent result not published'));
    void this.pump(item.agent_id);
  }

  @OnEvent('completion:error')
  async onError(end: CompletionEnd): Promise<void> {
    const item = this.itemFor(end.request_id);
    if (!item) return;
    const row = this.row(item.agent_id);
    // Before the turn shows as failed: whoever sees the failure sees the session already forgotten.
    if (row && row.status !== 'stopped' && (end.code === 'session_not_found' || end.code === 'context_overflow')) await this.forgetSession(item.agent_id, row.session_id, end.code);
    await this.markFailed(item.id, end.error ?? 'The turn failed', end.code ?? 'failed');
    if (!row || row.status === 'stopped') return;
    await this.setStatus(item.agent_id, 'failed');
    if (row.restarts >= MAX_RESTARTS) {
      this.log.error({ agent_id: item.agent_id, error: end.error }, 'agent failed too often; it stays failed');
      return;
    }
    const delay = 1_000 * 2 ** row.restarts;
    this.restartTimers.set(
      item.agent_id,
      setTimeout(() => {
        void this.writes
          .run((db) => db.prepare(`UPDATE agents SET status = 'idle', restarts = restarts + 1 WHERE agent_id = ? AND status = 'failed'`).run(item.agent_id))
          .then(() => this.pump(item.agent_id));
      }, delay).unref(),
    );
  }

  @OnEvent('completion:cancelled')
  async onCancelled(end: CompletionEnd): Promise<void> {
    const item = this.itemFor(end.request_id);
    if (!item) return;
    await this.markFailed(item.id, 'Cancelled', 'cancelled');
    await this.writes.run((db) => db.prepare(`UPDATE agents SET status = 'idle' WHERE agent_id = ? AND status = 'busy'`).run(item.agent_id));
    void this.pump(item.agent_id);
  }

  /** Starts the agent's next message when it is idle. */
  private async pump(agentId: string): Promise<void> {
    if (this.pumping.has(agentId)) return;
    this.pumping.add(agentId);
    let claimed: number | undefined;
    try {
      const row = this.row(agentId);
      if (!row || row.status !== 'idle') return;
      const next = this.db.prepare(`SELECT id, message FROM agent_messages WHERE agent_id = ? AND status = 'pending' ORDER BY id LIMIT 1`).get(agentId) as { id: number; message: string } | undefined;
      if (!next) return;
      const message = JSON.parse(next.message) as Record<string, unknown>;
      const config = JSON.parse(row.config) as AgentConfig;
      await this.writes.run((db) => {
        db.prepare(`UPDATE agent_messages SET status = 'processing' WHERE id = ?`).run(next.id);
        db.prepare(`UPDATE agents SET status = 'busy' WHERE agent_id = ?`).run(agentId);
      });
      claimed = next.id;
      const accepted = await this.bus.requestOne<{ request_id: string }>(
        'completion:async',
        {
          prompt: promptOf(message),
          model: config.model,
          agent_id: agentId,
          conversation_id: `agent:${agentId}`,
          ...(row.session_id ? { session_id: row.session_id } : { system_prompt: config.prompt }),
          ...(row.mcp_config_path && { mcp_config: row.mcp_config_path }),
        },
        internalContext('completion:async'),
      );
      await this.writes.run((db) => db.prepare('UPDATE agent_messages SET request_id = ? WHERE id = ?').run(accepted.request_id, next.id));
    } catch (error) {
      this.log.error({ agent_id: agentId, err: (error as Error).message }, 'agent could not start its next message');
      if (claimed !== undefined) await this.markFailed(claimed, `The turn could not be queued: ${(error as Error).message}`, error instanceof EventError ? error.code : 'internal_error');
      await this.setStatus(agentId, 'failed');
    } finally {
      this.pumping.delete(agentId);
    }
  }

  /**
   * Failed messages of an agent (one, or all) go back to the inbox in their original order, ahead of
   * newer ones; a failed agent becomes idle so they run now.
   */
  async retry(agentId: string, messageId?: number): Promise<number[]> {
    const row = this.row(agentId);
    if (!row || row.status === 'stopped') throw new EventError('not_found', `Agent ${agentId} not found`);
    const failed = this.db.prepare(`SELECT id FROM agent_messages WHERE agent_id = ? AND status = 'failed' ORDER BY id`).pluck().all(agentId) as number[];
    const chosen = messageId === undefined ? failed : failed.filter((id) => id === messageId);
    if (messageId !== undefined && chosen.length === 0) throw new EventError('not_found', `Agent ${agentId} has no failed message ${messageId}; agent:info lists its failed turns`);
    clearTimeout(this.restartTimers.get(agentId));
    await this.writes.run((db) => {
      const requeue = db.prepare(`UPDATE agent_messages SET status = 'pending', request_id = NULL, error = NULL, error_code = NULL, failed_at = NULL WHERE id = ?`);
      for (const id of chosen) requeue.run(id);
      db.prepare(`UPDATE agents SET status = 'idle', restarts = 0 WHERE agent_id = ? AND status = 'failed'`).run(agentId);
    });
    void this.pump(agentId);
    return chosen;
  }

  /**
   * The agent's session cannot go on: the CLI no longer has it (its store was wiped, or the agent
   * moved to another machine), or it outgrew the model's context. The next turn starts a new session
   * with the profile's prompt, rather than every turn failing for good. The failed turn stays failed,
   * so `agent:retry` runs it again on the new session.
   */
  private async forgetSession(agentId: string, sessionId: string | null, why: string): Promise<void> {
    this.log.warn({ agent_id: agentId, session_id: sessionId, code: why }, 'the agent’s session cannot go on; its next turn starts a new one');
    await this.writes.run((db) => db.prepare('UPDATE agents SET session_id = NULL WHERE agent_id = ? AND session_id IS ?').run(agentId, sessionId));
  }

  private markFailed(messageId: number, error: string, code: string): Promise<unknown> {
    return this.writes.run((db) =>
      db.prepare(`UPDATE agent_messages SET status = 'failed', error = ?, error_code = ?, failed_at = ? WHERE id = ?`).run(error, code, this.clock.now(), messageId),
    );
  }

  private itemFor(requestId: string): { id: number; agent_id: string; message: string } | undefined {
    return this.db.prepare('SELECT id, agent_id, message FROM agent_messages WHERE request_id = ?').get(requestId) as { id: number; agent_id: string; message: string } | undefined;
  }

  private setStatus(agentId: string, status: AgentStatus): Promise<unknown> {
    return this.writes.run((db) => db.prepare('UPDATE agents SET status = ? WHERE agent_id = ?').run(status, agentId));
  }

  private row(agentId: string): AgentRow | undefined {
    return this.db.prepare('SELECT * FROM agents WHERE agent_id = ?').get(agentId) as AgentRow | undefined;
  }

  private rows(): AgentRow[] {
    return this.db.prepare('SELECT * FROM agents ORDER BY created_at').all() as AgentRow[];
  }

  private toInfo(row: AgentRow): AgentInfo {
    const config = JSON.parse(row.config) as AgentConfig;
    const pending = this.db.prepare(`SELECT COUNT(*) FROM agent_messages WHERE agent_id = ? AND status IN ('pending', 'processing')`).pluck().get(row.agent_id) as number;
    const failedCount = this.db.prepare(`SELECT COUNT(*) FROM agent_messages WHERE agent_id = ? AND status = 'failed'`).pluck().get(row.agent_id) as number;
    const failed = this.db
      .prepare(`SELECT id, message, error, error_code, failed_at FROM agent_messages WHERE agent_id = ? AND status = 'failed' ORDER BY id DESC LIMIT ?`)
      .all(row.agent_id, FAILED_TURNS_SHOWN) as FailedRow[];
    return {
      agent_id: row.agent_id,
      status: row.status,
      profile: row.profile,
      session_id: row.session_id,
      model: config.model,
      role: config.role,
      capabilities: config.capabilities,
      permission_profile: config.permission_profile,
      sandbox: row.sandbox_dir,
      restarts: row.restarts,
      pending_messages: pending,
      failed_messages: failedCount,
      failed_turns: failed.map((turn) => ({
        message_id: turn.id,
        prompt: excerpt(promptOf(JSON.parse(turn.message) as Record<string, unknown>)),
        error: turn.error ?? 'The turn failed',
        code: turn.error_code ?? 'failed',
        failed_at: turn.failed_at === null ? null : turn.failed_at / 1000,
      })),
      created_at: row.created_at / 1000,
    };
  }
}

/** The turn's text: prompt, else content, else text, else the message as JSON. */
function promptOf(message: Record<string, unknown>): string {
  for (const key of ['prompt', 'content', 'text']) if (typeof message[key] === 'string' && message[key]) return message[key] as string;
  return JSON.stringify(message);
}

/** A prompt shown beside its failure: the start of it is enough to recognise it. */
function excerpt(text: string): string {
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
