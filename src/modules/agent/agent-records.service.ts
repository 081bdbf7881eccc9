import { Inject, Injectable } from '@nestjs/common';
import type { Database } from 'better-sqlite3';
import { costAgentTotals, type AgentInfo, type AgentStatus, type HandlerResult, type agentInfo } from '../../../libs/client/src';
import { SQLITE } from '../../database/sqlite.provider';
import { WriteQueue } from '../../database/write-queue';
import { EventBus } from '../../events/event-bus';
import { EventError } from '../../events/event-error';
import { promptOf } from './turn-prompt';

export interface AgentRow {
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

/** What an agent was composed with (the `config` column). */
export interface AgentConfig {
  model: string;
  prompt: string;
  role: string;
  capabilities: string[];
  permission_profile: string;
  /** The repository the agent's workspace is a worktree of, if any: a restart checks its branch out again. */
  repository?: string;
}

interface FailedRow {
  id: number;
  message: string;
  error: string | null;
  error_code: string | null;
  failed_at: number | null;
}

/** Failed turns agent:info lists (the count covers all of them). */
const FAILED_TURNS_SHOWN = 10;

/** The agents' durable records and what agent:list and agent:info show of them. */
@Injectable()
export class AgentRecords {
  constructor(
    @Inject(SQLITE) private readonly db: Database,
    private readonly writes: WriteQueue,
    private readonly bus: EventBus,
  ) {}

  row(agentId: string): AgentRow | undefined {
    return this.db.prepare('SELECT * FROM agents WHERE agent_id = ?').get(agentId) as AgentRow | undefined;
  }

  rows(): AgentRow[] {
    return this.db.prepare('SELECT * FROM agents ORDER BY created_at').all() as AgentRow[];
  }

  setStatus(agentId: string, status: AgentStatus): Promise<unknown> {
    return this.writes.run((db) => db.prepare('UPDATE agents SET status = ? WHERE agent_id = ?').run(status, agentId));
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
  async infoWithCosts(agentId: string): Promise<HandlerResult<typeof agentInfo>> {
    const info = this.info(agentId);
    return { ...info, costs: await this.bus.requestOne(costAgentTotals, { agent_id: agentId }) };
  }

  /** The first idle agent with every capability (for TASK_ASSIGNMENT). */
  findIdle(capabilities: string[]): string | undefined {
    return this.list('idle').find((agent) => capabilities.every((capability) => agent.capabilities.includes(capability)))?.agent_id;
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

/** A prompt shown beside its failure: the start of it is enough to recognise it. */
function excerpt(text: string): string {
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
