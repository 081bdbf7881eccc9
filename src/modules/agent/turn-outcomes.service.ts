import { Inject, Injectable } from '@nestjs/common';
import type { Database } from 'better-sqlite3';
import type { Logger } from 'pino';
import { agentResult, completionCancelled, completionError, completionResult, messagePublish, type PayloadOf } from '../../../libs/client/src';
import { SQLITE } from '../../database/sqlite.provider';
import { WriteQueue } from '../../database/write-queue';
import { EventBus } from '../../events/event-bus';
import { Listens } from '../../events/handles.decorator';
import { DAEMON_LOG } from '../../logging/logger';
import { AgentRecords } from './agent-records.service';
import { AgentTurns } from './agent-turns.service';

/** Restarts after failures, like pm2: 1 s, 2 s, 4 s … up to this many, then the agent stays failed. */
const MAX_RESTARTS = 5;

/**
 * How an agent's turn ended, from its completion's outcome: a reply becomes the agent's session and is
 * published (agent:result, AGENT_RESULT); a failure is kept for agent:retry and restarts the agent
 * after a backoff; then the agent's next message runs.
 */
@Injectable()
export class TurnOutcomes {
  private readonly restartTimers = new Map<string, NodeJS.Timeout>();

  constructor(
    @Inject(SQLITE) private readonly db: Database,
    @Inject(DAEMON_LOG) private readonly log: Logger,
    private readonly writes: WriteQueue,
    private readonly bus: EventBus,
    private readonly records: AgentRecords,
    private readonly turns: AgentTurns,
  ) {}

  /** The agent's pending restart after a failure is off (it was retried, restarted or terminated). */
  cancelRestart(agentId: string): void {
    clearTimeout(this.restartTimers.get(agentId));
  }

  @Listens(completionResult)
  async onResult(end: PayloadOf<typeof completionResult>): Promise<void> {
    const item = this.itemFor(end.request_id);
    if (!item) return;
    await this.writes.run((db) => {
      db.prepare(`UPDATE agent_messages SET status = 'done' WHERE id = ?`).run(item.id);
      db.prepare(`UPDATE agents SET session_id = COALESCE(?, session_id), status = 'idle', restarts = 0 WHERE agent_id = ? AND status != 'stopped'`).run(end.session_id ?? null, item.agent_id);
    });
    const text = end.result?.response?.result;
    this.bus.emit(agentResult, { agent_id: item.agent_id, request_id: end.request_id, session_id: end.session_id, text: text ?? '' });
    await this.bus
      .request(messagePublish, { event_type: 'AGENT_RESULT', agent_id: item.agent_id, message: { request_id: end.request_id, session_id: end.session_id, text, in_reply_to: JSON.parse(item.message) } })
      .catch((error: Error) => this.log.warn({ err: error.message }, 'agent result not published'));
    void this.turns.next(item.agent_id);
  }

  @Listens(completionError)
  async onError(end: PayloadOf<typeof completionError>): Promise<void> {
    const item = this.itemFor(end.request_id);
    if (!item) return;
    const row = this.records.row(item.agent_id);
    // Before the turn shows as failed: whoever sees the failure sees the session already forgotten.
    if (row && row.status !== 'stopped' && (end.code === 'session_not_found' || end.code === 'context_overflow')) await this.forgetSession(item.agent_id, row.session_id, end.code);
    await this.turns.markFailed(item.id, end.error, end.code);
    if (!row || row.status === 'stopped') return;
    await this.records.setStatus(item.agent_id, 'failed');
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
          .then(() => this.turns.next(item.agent_id));
      }, delay).unref(),
    );
  }

  @Listens(completionCancelled)
  async onCancelled(end: PayloadOf<typeof completionCancelled>): Promise<void> {
    const item = this.itemFor(end.request_id);
    if (!item) return;
    await this.turns.markFailed(item.id, 'Cancelled', 'cancelled');
    await this.writes.run((db) => db.prepare(`UPDATE agents SET status = 'idle' WHERE agent_id = ? AND status = 'busy'`).run(item.agent_id));
    void this.turns.next(item.agent_id);
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

  private itemFor(requestId: string): { id: number; agent_id: string; message: string } | undefined {
    return this.db.prepare('SELECT id, agent_id, message FROM agent_messages WHERE request_id = ?').get(requestId) as { id: number; agent_id: string; message: string } | undefined;
  }
}
