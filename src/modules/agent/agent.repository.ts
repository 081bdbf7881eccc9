import { Injectable } from '@nestjs/common';
import type { AgentStatus } from '../../../libs/client/src';
import { sql } from '../../database/sql-statement';
import { Storage, type SqlSession } from '../../database/storage';
import type { Agent } from './agent.entity';

const columns = `agent_id AS "agentId", profile, status, session_id AS "sessionId", config, sandbox_dir AS "sandboxDir",
  mcp_config_path AS "mcpConfigPath", restarts, created_at AS "createdAt"`;

const statements = {
  find: sql(`SELECT ${columns} FROM agents WHERE agent_id = ?`),
  all: sql(`SELECT ${columns} FROM agents ORDER BY created_at`),
  insert: sql(
    `INSERT INTO agents (agent_id, profile, status, session_id, config, sandbox_dir, mcp_config_path, restarts, created_at)
     VALUES (@agentId, @profile, @status, @sessionId, @config, @sandboxDir, @mcpConfigPath, @restarts, @createdAt)`,
  ),
  setStatus: sql('UPDATE agents SET status = ? WHERE agent_id = ?'),
  delete: sql('DELETE FROM agents WHERE agent_id = ?'),
  idleAfterReply: sql(`UPDATE agents SET session_id = COALESCE(?, session_id), status = 'idle', restarts = 0 WHERE agent_id = ? AND status != 'stopped'`),
  idleAfterRetry: sql(`UPDATE agents SET status = 'idle', restarts = 0 WHERE agent_id = ? AND status = 'failed'`),
  idleAfterBackoff: sql(`UPDATE agents SET status = 'idle', restarts = restarts + 1 WHERE agent_id = ? AND status = 'failed'`),
  idleWithoutReply: sql(`UPDATE agents SET status = 'idle' WHERE agent_id = ? AND status = 'busy'`),
  waitForBudget: sql(`UPDATE agents SET status = 'budget_exhausted' WHERE agent_id = ? AND status != 'stopped'`),
  idleAfterBudget: sql(`UPDATE agents SET status = 'idle' WHERE status = 'budget_exhausted' RETURNING agent_id`),
  forgetSession: sql('UPDATE agents SET session_id = NULL WHERE agent_id = ? AND session_id IS NOT DISTINCT FROM ?'),
};

/**
 * The writes of `agents` that go with a move of the agent's inbox, in the inbox's transaction
 * (AgentMessageRepository): a claimed message makes the agent busy, a reply idle, a retry un-fails it.
 */
export const agentMoves = {
  setStatus: (tx: SqlSession, agentId: string, status: AgentStatus) => tx.run(statements.setStatus, [status, agentId]),
  /** Not once stopped; the reply's session, if it has one, is the one the next turn resumes. */
  idleAfterReply: (tx: SqlSession, agentId: string, sessionId: string | null) => tx.run(statements.idleAfterReply, [sessionId, agentId]),
  /** A failed agent whose messages are retried runs again with its restarts counted afresh. */
  idleAfterRetry: (tx: SqlSession, agentId: string) => tx.run(statements.idleAfterRetry, [agentId]),
  /** Not once stopped: a stopped agent stays stopped. */
  waitForBudget: (tx: SqlSession, agentId: string) => tx.run(statements.waitForBudget, [agentId]),
  delete: (tx: SqlSession, agentId: string) => tx.run(statements.delete, [agentId]),
};

/** Every query of `agents`, the managed agents' durable records. Times are epoch ms. */
@Injectable()
export class AgentRepository {
  constructor(private readonly storage: Storage) {}

  find(agentId: string): Promise<Agent | undefined> {
    return this.storage.get<Agent>(statements.find, [agentId]);
  }

  /** In the order they were spawned. */
  all(): Promise<Agent[]> {
    return this.storage.all<Agent>(statements.all);
  }

  async insert(agent: Agent): Promise<void> {
    await this.storage.write((tx) => tx.run(statements.insert, agent));
  }

  async setStatus(agentId: string, status: AgentStatus): Promise<void> {
    await this.storage.write((tx) => agentMoves.setStatus(tx, agentId, status));
  }

  /** A failed agent runs again after its backoff, one more restart counted; not if it was retried or stopped meanwhile. */
  async idleAfterBackoff(agentId: string): Promise<void> {
    await this.storage.write((tx) => tx.run(statements.idleAfterBackoff, [agentId]));
  }

  /** A busy agent whose turn ended without a reply (cancelled, or stopped at its budget's cap) is idle again. */
  async idleWithoutReply(agentId: string): Promise<void> {
    await this.storage.write((tx) => tx.run(statements.idleWithoutReply, [agentId]));
  }

  /** Every agent a spent budget stopped is idle again (its budget may have been raised); their ids. */
  idleAfterBudget(): Promise<string[]> {
    return this.storage.write((tx) => tx.column<string>(statements.idleAfterBudget));
  }

  /** The agent's next turn starts a new session, unless its session changed meanwhile. */
  async forgetSession(agentId: string, sessionId: string | null): Promise<void> {
    await this.storage.write((tx) => tx.run(statements.forgetSession, [agentId, sessionId]));
  }
}
