import { Inject, Injectable } from '@nestjs/common';
import type { Database } from 'better-sqlite3';
import { CLOCK, type Clock } from '../../common/clock';
import { SQLITE } from '../../database/sqlite.provider';
import { WriteQueue } from '../../database/write-queue';
import { EventError } from '../../events/event-error';
import { AgentRecords } from './agent-records.service';
import { AgentTurns } from './agent-turns.service';
import { TurnOutcomes } from './turn-outcomes.service';

/** Each agent's durable inbox: messages wait there in order until the agent is idle, failed ones until they are retried. */
@Injectable()
export class AgentInbox {
  constructor(
    @Inject(SQLITE) private readonly db: Database,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly writes: WriteQueue,
    private readonly records: AgentRecords,
    private readonly turns: AgentTurns,
    private readonly outcomes: TurnOutcomes,
  ) {}

  /** Adds a message to the agent's inbox; it runs when the agent is idle, in order. */
  async enqueue(agentId: string, message: Record<string, unknown>): Promise<number> {
    const row = this.records.row(agentId);
    if (!row || row.status === 'stopped') throw new EventError('not_found', `Agent ${agentId} not found`);
    const id = await this.writes.run(
      (db) => db.prepare(`INSERT INTO agent_messages (agent_id, message, status, created_at) VALUES (?, ?, 'pending', ?)`).run(agentId, JSON.stringify(message), this.clock.now()).lastInsertRowid as number,
    );
    void this.turns.next(agentId);
    return Number(id);
  }

  /** A broadcast is delivered once to every other running agent and is never broadcast again. */
  async broadcast(message: Record<string, unknown>, sender: string): Promise<{ agents_reached: number; total_agents: number }> {
    const running = this.records.rows().filter((row) => row.status !== 'stopped' && row.agent_id !== sender);
    for (const row of running) await this.enqueue(row.agent_id, { ...message, type: 'broadcast', from: sender });
    return { agents_reached: running.length, total_agents: this.records.rows().length };
  }

  /**
   * Failed messages of an agent (one, or all) go back to the inbox in their original order, ahead of
   * newer ones; a failed agent becomes idle so they run now.
   */
  async retry(agentId: string, messageId?: number): Promise<number[]> {
    const row = this.records.row(agentId);
    if (!row || row.status === 'stopped') throw new EventError('not_found', `Agent ${agentId} not found`);
    const failed = this.db.prepare(`SELECT id FROM agent_messages WHERE agent_id = ? AND status = 'failed' ORDER BY id`).pluck().all(agentId) as number[];
    const chosen = messageId === undefined ? failed : failed.filter((id) => id === messageId);
    if (messageId !== undefined && chosen.length === 0) throw new EventError('not_found', `Agent ${agentId} has no failed message ${messageId}; agent:info lists its failed turns`);
    this.outcomes.cancelRestart(agentId);
    await this.writes.run((db) => {
      const requeue = db.prepare(`UPDATE agent_messages SET status = 'pending', request_id = NULL, error = NULL, error_code = NULL, failed_at = NULL WHERE id = ?`);
      for (const id of chosen) requeue.run(id);
      db.prepare(`UPDATE agents SET status = 'idle', restarts = 0 WHERE agent_id = ? AND status = 'failed'`).run(agentId);
    });
    void this.turns.next(agentId);
    return chosen;
  }
}
