import { Injectable } from '@nestjs/common';
import { sql } from '../../database/sql-statement';
import { Storage } from '../../database/storage';
import type { AgentMessage } from './agent-message.entity';
import { agentMoves } from './agent.repository';

const statements = {
  counts: sql(
    `SELECT COUNT(CASE WHEN status IN ('pending', 'processing') THEN 1 END) AS pending, COUNT(CASE WHEN status = 'failed' THEN 1 END) AS failed
     FROM agent_messages WHERE agent_id = ?`,
  ),
  latestFailed: sql(
    `SELECT id, message, error, error_code AS "errorCode", failed_at AS "failedAt" FROM agent_messages
     WHERE agent_id = ? AND status = 'failed' ORDER BY id DESC LIMIT ?`,
  ),
  failedIds: sql(`SELECT id FROM agent_messages WHERE agent_id = ? AND status = 'failed' ORDER BY id`),
  toRunAgain: sql(`SELECT message FROM agent_messages WHERE agent_id = ? AND status IN ('pending', 'failed') ORDER BY id`),
  nextPending: sql(`SELECT id, message FROM agent_messages WHERE agent_id = ? AND status = 'pending' ORDER BY id LIMIT 1`),
  runningRequestIds: sql(`SELECT request_id FROM agent_messages WHERE agent_id = ? AND status = 'processing' AND request_id IS NOT NULL`),
  inFlight: sql(`SELECT id, request_id AS "requestId" FROM agent_messages WHERE agent_id = ? AND status = 'processing' ORDER BY id`),
  byRequest: sql(`SELECT id, agent_id AS "agentId", message FROM agent_messages WHERE request_id = ? AND status = 'processing'`),
  insert: sql(`INSERT INTO agent_messages (agent_id, message, status, created_at) VALUES (?, ?, 'pending', ?) RETURNING id`),
  claim: sql(`UPDATE agent_messages SET status = 'processing', request_id = ? WHERE id = ? AND status = 'pending'`),
  // Only a running turn settles, once: two nodes that hear its end at once (an agent moving) settle it once.
  done: sql(`UPDATE agent_messages SET status = 'done' WHERE id = ? AND status = 'processing'`),
  // Only the turn of this request: a node that learns late of a turn it lost (paused, the message taken back) fails nothing.
  failed: sql(`UPDATE agent_messages SET status = 'failed', error = ?, error_code = ?, failed_at = ? WHERE id = ? AND request_id = ? AND status = 'processing'`),
  backToInbox: sql(`UPDATE agent_messages SET status = 'pending', request_id = NULL WHERE id = ? AND status = 'processing'`),
  requeue: sql(`UPDATE agent_messages SET status = 'pending', request_id = NULL, error = NULL, error_code = NULL, failed_at = NULL WHERE id = ?`),
  deleteAll: sql('DELETE FROM agent_messages WHERE agent_id = ?'),
};

/** Messages waiting (pending, processing) and failed turns of one agent. */
export interface InboxCounts {
  pending: number;
  failed: number;
}

export type FailedTurn = Pick<AgentMessage, 'id' | 'message' | 'error' | 'errorCode' | 'failedAt'>;

/** Why a turn failed, and what that does to its agent. */
export interface TurnFailure {
  error: string;
  code: string;
  /** idle: the turn ended without a reply (cancelled, or stopped at its budget's cap); failed: the agent failed with it, unless it was stopped. */
  agent: 'idle' | 'failed';
  /** The session the turn could not go on with: the next turn starts a new one, unless the agent's session changed since. */
  forgetSession?: { sessionId: string | null };
}

export interface FailedTurnOutcome {
  /** The turn was still running, and now is failed. */
  settled: boolean;
  agentFailed: boolean;
  sessionForgotten: boolean;
}

/**
 * Every query of `agent_messages`, the agents' durable inboxes. A move of a message that changes its
 * agent's status too commits both in one transaction (see agentMoves). Times are epoch ms.
 */
@Injectable()
export class AgentMessageRepository {
  constructor(private readonly storage: Storage) {}

  async counts(agentId: string): Promise<InboxCounts> {
    return (await this.storage.get<InboxCounts>(statements.counts, [agentId]))!;
  }

  /** The newest `limit` failed turns, newest first. */
  latestFailed(agentId: string, limit: number): Promise<FailedTurn[]> {
    return this.storage.all<FailedTurn>(statements.latestFailed, [agentId, limit]);
  }

  /** In the order they arrived. */
  failedIds(agentId: string): Promise<number[]> {
    return this.storage.column<number>(statements.failedIds, [agentId]);
  }

  /** The JSON of the pending and failed messages, in the order they arrived. */
  toRunAgain(agentId: string): Promise<string[]> {
    return this.storage.column<string>(statements.toRunAgain, [agentId]);
  }

  /** The oldest pending message. */
  nextPending(agentId: string): Promise<Pick<AgentMessage, 'id' | 'message'> | undefined> {
    return this.storage.get(statements.nextPending, [agentId]);
  }

  /** The completions of the turns running now. */
  runningRequestIds(agentId: string): Promise<string[]> {
    return this.storage.column<string>(statements.runningRequestIds, [agentId]);
  }

  /** The agent's messages whose turn was started: with the completion's id, unless the node stopped before it was queued. */
  inFlight(agentId: string): Promise<{ id: number; requestId: string | null }[]> {
    return this.storage.all(statements.inFlight, [agentId]);
  }

  /** The message whose turn is the completion `requestId`, while that turn is unsettled. */
  byRequest(requestId: string): Promise<Pick<AgentMessage, 'id' | 'agentId' | 'message'> | undefined> {
    return this.storage.get(statements.byRequest, [requestId]);
  }

  /** Resolves once committed with the message's id. */
  enqueue(agentId: string, messageJson: string, now: number): Promise<number> {
    return this.storage.writeReturning<{ id: number }>(statements.insert, [agentId, messageJson, now]).then(([row]) => row.id);
  }

  /**
   * The message's turn starts, as the request `requestId`: it is processing and its agent busy. False,
   * and nothing changed, when the agent is no longer idle (terminated meanwhile) or the message no
   * longer pending.
   */
  claim(messageId: number, agentId: string, requestId: string): Promise<boolean> {
    return this.storage.write(async (tx) => {
      if ((await agentMoves.busyIfIdle(tx, agentId)) === 0) return false;
      if ((await tx.run(statements.claim, [requestId, messageId])) === 1) return true;
      await agentMoves.setStatus(tx, agentId, 'idle');
      return false;
    });
  }

  /** The running turn replied: it is done, and its agent idle on the reply's session; false when it was settled already (nothing written). */
  settleReply(messageId: number, agentId: string, sessionId: string | null): Promise<boolean> {
    return this.storage.write(async (tx) => {
      if ((await tx.run(statements.done, [messageId])) === 0) return false;
      await agentMoves.idleAfterReply(tx, agentId, sessionId);
      return true;
    });
  }

  /**
   * The running turn, the request `requestId`, failed, and its agent moves with it in the same
   * transaction: whoever sees the failed turn sees the agent idle or failed, its session forgotten.
   * Nothing changes when the turn was settled already, or is another turn now.
   */
  failTurn(messageId: number, requestId: string, agentId: string, failure: TurnFailure, now: number): Promise<FailedTurnOutcome> {
    return this.storage.write(async (tx) => {
      if ((await tx.run(statements.failed, [failure.error, failure.code, now, messageId, requestId])) === 0) return { settled: false, agentFailed: false, sessionForgotten: false };
      const sessionForgotten = failure.forgetSession !== undefined && (await agentMoves.forgetSession(tx, agentId, failure.forgetSession.sessionId)) === 1;
      let agentFailed = false;
      if (failure.agent === 'failed') agentFailed = (await agentMoves.fail(tx, agentId)) === 1;
      else await agentMoves.idleWithoutReply(tx, agentId);
      return { settled: true, agentFailed, sessionForgotten };
    });
  }

  /**
   * A spent budget kept the message's turn from starting: it goes back to the inbox as it was, and the
   * agent waits as budget_exhausted; false when it was settled already.
   */
  waitForBudget(messageId: number, agentId: string): Promise<boolean> {
    return this.storage.write(async (tx) => {
      if ((await tx.run(statements.backToInbox, [messageId])) === 0) return false;
      await agentMoves.waitForBudget(tx, agentId);
      return true;
    });
  }

  /** The failed messages go back to the inbox as they were first sent; a failed agent becomes idle. */
  async requeue(agentId: string, messageIds: number[]): Promise<void> {
    await this.storage.write(async (tx) => {
      for (const id of messageIds) await tx.run(statements.requeue, [id]);
      await agentMoves.idleAfterRetry(tx, agentId);
    });
  }

  /** The agent's inbox and the agent itself go, together. */
  async deleteWithAgent(agentId: string): Promise<void> {
    await this.storage.write(async (tx) => {
      await tx.run(statements.deleteAll, [agentId]);
      await agentMoves.delete(tx, agentId);
    });
  }
}
