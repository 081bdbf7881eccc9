import { Injectable } from '@nestjs/common';
import { sql } from '../../database/sql-statement';
import { Storage } from '../../database/storage';
import type { OrchestrationTurn } from './orchestration-turn.entity';
import type { OrchestrationRow } from './orchestration.entity';

const ROW = `orchestration_id AS "orchestrationId", pattern, state, reason, agents, turn_order AS "turnOrder", turn, rounds, message_count AS "messageCount",
  started_at AS "startedAt", ended_at AS "endedAt", timeout_at AS "timeoutAt", end_event AS "endEvent", pending_turn AS "pendingTurn", pending_since AS "pendingSince",
  started_by AS "startedBy"`;

const statements = {
  insert: sql(
    `INSERT INTO orchestrations (orchestration_id, pattern, state, reason, agents, turn_order, turn, rounds, message_count, started_at, ended_at, timeout_at, end_event, pending_turn, pending_since, started_by)
     VALUES (@orchestrationId, @pattern, @state, @reason, @agents, @turnOrder, @turn, @rounds, @messageCount, @startedAt, @endedAt, @timeoutAt, @endEvent, @pendingTurn, @pendingSince, @startedBy)`,
  ),
  find: sql(`SELECT ${ROW} FROM orchestrations WHERE orchestration_id = ?`),
  all: sql(`SELECT ${ROW} FROM orchestrations ORDER BY started_at, orchestration_id`),
  running: sql(`SELECT ${ROW} FROM orchestrations WHERE state = 'running' ORDER BY started_at, orchestration_id`),
  route: sql(
    `UPDATE orchestrations SET message_count = message_count + 1, turn = @turn, pending_turn = @pendingTurn, pending_since = @now,
       state = CASE WHEN CAST(@ending AS TEXT) IS NULL THEN state ELSE 'ending' END, reason = @ending
     WHERE orchestration_id = @orchestrationId AND state = 'running' AND message_count = @messageCount`,
  ),
  addTurn: sql('INSERT INTO orchestration_turns (orchestration_id, seq, agent_id, text, at) VALUES (@orchestrationId, @seq, @agentId, @text, @at)'),
  delivered: sql(`UPDATE orchestrations SET pending_turn = NULL, pending_since = NULL WHERE orchestration_id = ? AND state = 'running' AND message_count = ?`),
  beginEnding: sql(`UPDATE orchestrations SET state = 'ending', reason = ?, pending_turn = NULL, pending_since = ? WHERE orchestration_id = ? AND state = 'running'`),
  ended: sql(`UPDATE orchestrations SET state = 'terminated', ended_at = ?, pending_since = NULL WHERE orchestration_id = ? AND state = 'ending'`),
  stale: sql(
    `SELECT ${ROW} FROM orchestrations
     WHERE ((state = 'running' AND pending_turn IS NOT NULL) OR state = 'ending') AND pending_since <= ? ORDER BY started_at, orchestration_id`,
  ),
  transcript: sql(`SELECT agent_id AS "agentId", text, at FROM orchestration_turns WHERE orchestration_id = ? ORDER BY seq`),
};

/** What nodes sharing a database tell each other: the running instances changed (started or ended). */
const ORCHESTRATIONS_SIGNAL = 'ksi_orchestrations';

/** Every query of orchestrations and orchestration_turns. Times are epoch ms. */
@Injectable()
export class OrchestrationRepository {
  constructor(private readonly storage: Storage) {}

  async insert(row: OrchestrationRow): Promise<void> {
    await this.storage.writeStatement(statements.insert, row);
  }

  find(orchestrationId: string): Promise<OrchestrationRow | undefined> {
    return this.storage.get<OrchestrationRow>(statements.find, [orchestrationId]);
  }

  /** Every instance, finished ones included, oldest first. */
  all(): Promise<OrchestrationRow[]> {
    return this.storage.all<OrchestrationRow>(statements.all);
  }

  running(): Promise<OrchestrationRow[]> {
    return this.storage.all<OrchestrationRow>(statements.running);
  }

  /**
   * Records `reply` as the instance's next transcript turn, and either the turn it hands on
   * (`pendingTurn`) or, with `ending`, the start of its end; only if the instance still runs and has
   * routed exactly `messageCount` replies. False when another route came first.
   */
  route(
    orchestrationId: string,
    messageCount: number,
    reply: { agentId: string; text: string; at: number },
    next: { turn: number; pendingTurn: string | null; ending: string | null },
  ): Promise<boolean> {
    return this.storage.write(async (tx) => {
      const changed = await tx.run(statements.route, { orchestrationId, messageCount, turn: next.turn, pendingTurn: next.pendingTurn, ending: next.ending, now: reply.at });
      if (changed === 0) return false;
      await tx.run(statements.addTurn, { orchestrationId, seq: messageCount, ...reply });
      return true;
    });
  }

  /** The pending turn written with `messageCount` replies reached its agent. */
  async delivered(orchestrationId: string, messageCount: number): Promise<void> {
    await this.storage.writeStatement(statements.delivered, [orchestrationId, messageCount]);
  }

  /** Marks a running instance as ending for `reason`; false when it no longer runs. */
  beginEnding(orchestrationId: string, reason: string, now: number): Promise<boolean> {
    return this.storage.writeStatement(statements.beginEnding, [reason, now, orchestrationId]).then((changes) => changes > 0);
  }

  /** An ending instance's agents are gone; false when another node recorded it first. */
  ended(orchestrationId: string, now: number): Promise<boolean> {
    return this.storage.writeStatement(statements.ended, [now, orchestrationId]).then((changes) => changes > 0);
  }

  /** Instances whose pending turn or ending was written at or before `before` and not finished since. */
  stale(before: number): Promise<OrchestrationRow[]> {
    return this.storage.all<OrchestrationRow>(statements.stale, [before]);
  }

  transcript(orchestrationId: string): Promise<Omit<OrchestrationTurn, 'orchestrationId' | 'seq'>[]> {
    return this.storage.all(statements.transcript, [orchestrationId]);
  }

  /** Runs `job` on one node at a time (see Storage.exclusively). */
  exclusively(job: () => Promise<void>): Promise<void | undefined> {
    return this.storage.exclusively('ksi_orchestration_upkeep', job);
  }

  /** Tells every node sharing the database that the running instances changed (nothing on SQLite). */
  async announce(): Promise<void> {
    await this.storage.signal(ORCHESTRATIONS_SIGNAL, '');
  }

  onAnnounced(listener: () => void): void {
    this.storage.onSignal(ORCHESTRATIONS_SIGNAL, listener);
  }

  /** See Storage.onSignalsMissed. */
  onSignalsMissed(listener: () => void): void {
    this.storage.onSignalsMissed(listener);
  }
}
