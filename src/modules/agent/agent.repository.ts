import { Inject, Injectable } from '@nestjs/common';
import type { AgentStatus } from '../../../libs/client/src';
import { KSI_CONFIG, type KsiConfig } from '../../config/config';
import { sql } from '../../database/sql-statement';
import { Storage, type SqlSession } from '../../database/storage';
import type { Agent } from './agent.entity';

const columns = `agent_id AS "agentId", profile, status, session_id AS "sessionId", config, sandbox_dir AS "sandboxDir",
  mcp_config_path AS "mcpConfigPath", restarts, created_at AS "createdAt", owner`;

const statements = {
  find: sql(`SELECT ${columns} FROM agents WHERE agent_id = ?`),
  all: sql(`SELECT ${columns} FROM agents ORDER BY created_at`),
  insert: sql(
    `INSERT INTO agents (agent_id, profile, status, session_id, config, sandbox_dir, mcp_config_path, restarts, created_at, owner)
     VALUES (@agentId, @profile, @status, @sessionId, @config, @sandboxDir, @mcpConfigPath, @restarts, @createdAt, @me)`,
  ),
  setStatus: sql('UPDATE agents SET status = ? WHERE agent_id = ?'),
  failUnlessStopped: sql(`UPDATE agents SET status = 'failed' WHERE agent_id = ? AND status != 'stopped'`),
  busyIfIdle: sql(`UPDATE agents SET status = 'busy' WHERE agent_id = ? AND status = 'idle'`),
  delete: sql('DELETE FROM agents WHERE agent_id = ?'),
  idleAfterReply: sql(`UPDATE agents SET session_id = COALESCE(?, session_id), status = 'idle', restarts = 0 WHERE agent_id = ? AND status != 'stopped'`),
  idleAfterRetry: sql(`UPDATE agents SET status = 'idle', restarts = 0 WHERE agent_id = ? AND status = 'failed'`),
  idleAfterBackoff: sql(`UPDATE agents SET status = 'idle', restarts = restarts + 1 WHERE agent_id = ? AND status = 'failed'`),
  idleWithoutReply: sql(`UPDATE agents SET status = 'idle' WHERE agent_id = ? AND status = 'busy'`),
  waitForBudget: sql(`UPDATE agents SET status = 'budget_exhausted' WHERE agent_id = ? AND status != 'stopped'`),
  idleAfterBudget: sql(`UPDATE agents SET status = 'idle' WHERE status = 'budget_exhausted' AND (owner = ? OR owner IS NULL) RETURNING agent_id AS "agentId"`),
  // This node's agents, those no node holds, and those of nodes not in @alive; every one with @all (SQLite: one node).
  adoptable: sql(
    `SELECT agent_id AS "agentId", owner AS "previous" FROM agents
     WHERE status <> 'stopped' AND (@all = 1 OR owner IS NULL OR owner = @me OR owner NOT IN (SELECT value FROM json_each(@alive)))`,
    `SELECT agent_id AS "agentId", owner AS "previous" FROM agents
     WHERE status <> 'stopped' AND (@all = 1 OR owner IS NULL OR owner = @me OR owner NOT IN (SELECT jsonb_array_elements_text(@alive::jsonb))) FOR UPDATE SKIP LOCKED`,
  ),
  own: sql('UPDATE agents SET owner = ? WHERE agent_id = ?'),
  release: sql('UPDATE agents SET owner = NULL WHERE owner = ?'),
  setMcpConfig: sql('UPDATE agents SET mcp_config_path = ? WHERE agent_id = ?'),
  forgetSession: sql('UPDATE agents SET session_id = NULL WHERE agent_id = ? AND session_id IS NOT DISTINCT FROM ?'),
};

/**
 * The writes of `agents` that go with a move of the agent's inbox, in the inbox's transaction
 * (AgentMessageRepository): a claimed message makes the agent busy, a reply idle, a retry un-fails it.
 */
export const agentMoves = {
  setStatus: (tx: SqlSession, agentId: string, status: AgentStatus) => tx.run(statements.setStatus, [status, agentId]),
  /** 0 rows when the agent is not idle (stopped, say, since its turn was chosen). */
  busyIfIdle: (tx: SqlSession, agentId: string) => tx.run(statements.busyIfIdle, [agentId]),
  /** Not once stopped; the reply's session, if it has one, is the one the next turn resumes. */
  idleAfterReply: (tx: SqlSession, agentId: string, sessionId: string | null) => tx.run(statements.idleAfterReply, [sessionId, agentId]),
  /** A failed agent whose messages are retried runs again with its restarts counted afresh. */
  idleAfterRetry: (tx: SqlSession, agentId: string) => tx.run(statements.idleAfterRetry, [agentId]),
  /** Not once stopped: a stopped agent stays stopped. */
  waitForBudget: (tx: SqlSession, agentId: string) => tx.run(statements.waitForBudget, [agentId]),
  /** Not once stopped. */
  fail: (tx: SqlSession, agentId: string) => tx.run(statements.failUnlessStopped, [agentId]),
  /** A busy agent whose turn ended without a reply (cancelled, or stopped at its budget's cap) is idle again. */
  idleWithoutReply: (tx: SqlSession, agentId: string) => tx.run(statements.idleWithoutReply, [agentId]),
  /** The agent's next turn starts a new session, unless its session changed meanwhile (0 rows). */
  forgetSession: (tx: SqlSession, agentId: string, sessionId: string | null) => tx.run(statements.forgetSession, [agentId, sessionId]),
  delete: (tx: SqlSession, agentId: string) => tx.run(statements.delete, [agentId]),
};

/** The signal nodes sharing a database send each other about agents: run one's next turn (`to` its owner), or adopt those let go. */
const AGENTS_SIGNAL = 'ksi_agents';

export interface AgentNote {
  /** The node asked to run the agent's next turn; absent: agents were let go, any node may adopt them. */
  to?: string;
  agentId?: string;
}

/** Every query of `agents`, the managed agents' durable records. Times are epoch ms. */
@Injectable()
export class AgentRepository {
  /** This node, the owner of the agents it spawns or adopts. */
  private readonly me: string;

  constructor(
    private readonly storage: Storage,
    @Inject(KSI_CONFIG) config: KsiConfig,
  ) {
    this.me = config.node.id;
  }

  /**
   * Takes the agents this node may run: its own, those no node holds, and those of nodes not in
   * `aliveNodes` (with `all`, every one: a database only this daemon uses); resolves with each and the
   * node that held it before.
   */
  adopt(aliveNodes: string[], all: boolean): Promise<{ agentId: string; previous: string | null }[]> {
    return this.storage.write(async (tx) => {
      const adoptable = await tx.all<{ agentId: string; previous: string | null }>(statements.adoptable, { me: this.me, alive: JSON.stringify(aliveNodes), all: all ? 1 : 0 });
      for (const { agentId, previous } of adoptable) if (previous !== this.me) await tx.run(statements.own, [this.me, agentId]);
      return adoptable;
    });
  }

  /** Lets go of this node's agents (it stops): another node adopts them. */
  async release(): Promise<void> {
    await this.storage.writeStatement(statements.release, [this.me]);
  }

  async setMcpConfig(agentId: string, path: string): Promise<void> {
    await this.storage.writeStatement(statements.setMcpConfig, [path, agentId]);
  }

  /** Tells the nodes sharing the database (nothing on SQLite). */
  async announce(note: AgentNote): Promise<void> {
    await this.storage.signal(AGENTS_SIGNAL, JSON.stringify(note));
  }

  onAnnounced(listener: (note: AgentNote) => void): void {
    this.storage.onSignal(AGENTS_SIGNAL, (payload) => listener(JSON.parse(payload) as AgentNote));
  }

  /** See Storage.onSignalsMissed. */
  onSignalsMissed(listener: () => void): void {
    this.storage.onSignalsMissed(listener);
  }

  find(agentId: string): Promise<Agent | undefined> {
    return this.storage.get<Agent>(statements.find, [agentId]);
  }

  /** In the order they were spawned. */
  all(): Promise<Agent[]> {
    return this.storage.all<Agent>(statements.all);
  }

  /** A new agent, owned by this node. */
  async insert(agent: Omit<Agent, 'owner'>): Promise<void> {
    await this.storage.writeStatement(statements.insert, { ...agent, me: this.me });
  }

  async setStatus(agentId: string, status: AgentStatus): Promise<void> {
    await this.storage.write((tx) => agentMoves.setStatus(tx, agentId, status));
  }

  /** A failed agent runs again after its backoff, one more restart counted; not if it was retried or stopped meanwhile. */
  async idleAfterBackoff(agentId: string): Promise<void> {
    await this.storage.writeStatement(statements.idleAfterBackoff, [agentId]);
  }

  /** A busy agent whose turn ended without a reply is idle again. */
  async idleWithoutReply(agentId: string): Promise<void> {
    await this.storage.write((tx) => agentMoves.idleWithoutReply(tx, agentId));
  }

  /** Every agent a spent budget stopped is idle again (its budget may have been raised); their ids. */
  idleAfterBudget(): Promise<string[]> {
    return this.storage.writeReturning<{ agentId: string }>(statements.idleAfterBudget, [this.me]).then((rows) => rows.map((row) => row.agentId));
  }
}
