import { Inject, Injectable } from '@nestjs/common';
import type { Database } from 'better-sqlite3';
import type { Logger } from 'pino';
import { completionAsync } from '../../../libs/client/src';
import { CLOCK, type Clock } from '../../common/clock';
import { SQLITE } from '../../database/sqlite.provider';
import { WriteQueue } from '../../database/write-queue';
import { EventBus } from '../../events/event-bus';
import { EventError } from '../../events/event-error';
import { DAEMON_LOG } from '../../logging/logger';
import { AgentRecords, type AgentConfig } from './agent-records.service';
import { promptOf } from './turn-prompt';

/**
 * The turn loop: an idle agent's oldest pending message becomes one completion on the agent's session
 * (the composed profile's model; its prompt as system prompt on the first turn; its permissions and
 * sandbox through the completion module). TurnOutcomes settles the turn when the completion ends.
 */
@Injectable()
export class AgentTurns {
  private readonly pumping = new Set<string>();

  constructor(
    @Inject(SQLITE) private readonly db: Database,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(DAEMON_LOG) private readonly log: Logger,
    private readonly writes: WriteQueue,
    private readonly bus: EventBus,
    private readonly records: AgentRecords,
  ) {}

  /** Starts the agent's next message when it is idle. */
  async next(agentId: string): Promise<void> {
    if (this.pumping.has(agentId)) return;
    this.pumping.add(agentId);
    let claimed: number | undefined;
    try {
      const row = this.records.row(agentId);
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
      const accepted = await this.bus.requestOne(completionAsync, {
        prompt: promptOf(message),
        model: config.model,
        agent_id: agentId,
        conversation_id: `agent:${agentId}`,
        ...(row.session_id ? { session_id: row.session_id } : { system_prompt: config.prompt }),
        ...(row.mcp_config_path && { mcp_config: row.mcp_config_path }),
      });
      await this.writes.run((db) => db.prepare('UPDATE agent_messages SET request_id = ? WHERE id = ?').run(accepted.request_id, next.id));
    } catch (error) {
      this.log.error({ agent_id: agentId, err: (error as Error).message }, 'agent could not start its next message');
      if (claimed !== undefined) await this.markFailed(claimed, `The turn could not be queued: ${(error as Error).message}`, error instanceof EventError ? error.code : 'internal_error');
      await this.records.setStatus(agentId, 'failed');
    } finally {
      this.pumping.delete(agentId);
    }
  }

  markFailed(messageId: number, error: string, code: string): Promise<unknown> {
    return this.writes.run((db) =>
      db.prepare(`UPDATE agent_messages SET status = 'failed', error = ?, error_code = ?, failed_at = ? WHERE id = ?`).run(error, code, this.clock.now(), messageId),
    );
  }
}
