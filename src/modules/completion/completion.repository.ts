import { Injectable } from '@nestjs/common';
import type { CompletionErrorCode } from '../../../libs/client/src';
import { sql } from '../../database/sql-statement';
import { Storage } from '../../database/storage';
import type { CompletionRequest } from './completion-request.entity';
import { COST_COLUMNS, type CostColumns } from './cost.repository';

/** A request as admission writes it: no attempt, no outcome and no cost yet; `seq` is given by the insert. */
export type NewRequest = Omit<CompletionRequest, keyof CostColumns | 'seq' | 'resultSessionId' | 'lastError' | 'errorCode' | 'result' | 'pid' | 'startedAt' | 'completedAt'>;

/** What the checkpoint lists of an unfinished request. */
export type ActiveRequest = Pick<CompletionRequest, 'requestId' | 'status' | 'attempts' | 'queueKey'>;

/** One queue key's unfinished requests. */
export interface QueueLoad {
  queueKey: string;
  queued: number;
  processing: number;
}

const REQUEST = `r.request_id AS "requestId", r.seq, r.status, r.queue_key AS "queueKey", r.session_id AS "sessionId",
  r.result_session_id AS "resultSessionId", r.priority, r.model, r.payload, r.attempts, r.max_attempts AS "maxAttempts",
  r.next_attempt_at AS "nextAttemptAt", r.last_error AS "lastError", r.error_code AS "errorCode", r.result, r.client_id AS "clientId",
  r.agent_id AS "agentId", r.pid, r.queued_at AS "queuedAt", r.started_at AS "startedAt", r.completed_at AS "completedAt", r.profile, r.account, ${COST_COLUMNS}`;

const ACTIVE = "status IN ('queued', 'processing')";

/** No earlier request of the same queue key is unfinished: `r` is its queue's head. */
const HEAD = `NOT EXISTS (SELECT 1 FROM completion_requests p WHERE p.queue_key = r.queue_key AND p.seq < r.seq AND p.${ACTIVE})`;

/** The request's account is not parked by a usage window at ? (now). */
const NOT_PARKED = 'NOT EXISTS (SELECT 1 FROM usage_windows w WHERE w.account = r.account AND w.paused_until > ?)';

/** Sets max_attempts to at least @minMax (SQLite's two-argument MAX is PostgreSQL's GREATEST). */
const AT_LEAST = (minimum: string) => `max_attempts = CASE WHEN max_attempts < ${minimum} THEN ${minimum} ELSE max_attempts END`;

/**
 * Links in the order they were made. SQLite's rowid is that order; PostgreSQL has none, so links
 * made in the same millisecond come in the order their requests were accepted.
 */
const linkOrder = (direction: '' | ' DESC') => ({
  sqlite: `l.created_at${direction}, l.rowid${direction}`,
  postgres: `l.created_at${direction}, (SELECT seq FROM completion_requests c WHERE c.request_id = l.request_id)${direction}`,
});
const newestFirst = linkOrder(' DESC');
const oldestFirst = linkOrder('');

const statements = {
  insert: sql(
    `INSERT INTO completion_requests (request_id, seq, status, queue_key, session_id, priority, model, payload, attempts, max_attempts, next_attempt_at, client_id, agent_id, profile, account, queued_at)
     VALUES (@requestId, (SELECT COALESCE(MAX(seq), 0) + 1 FROM completion_requests), @status, @queueKey, @sessionId, @priority, @model, @payload, @attempts, @maxAttempts, @nextAttemptAt, @clientId, @agentId, @profile, @account, @queuedAt)`,
  ),
  byId: sql(`SELECT ${REQUEST} FROM completion_requests r WHERE r.request_id = ?`),
  // A processing head blocks the rest of its queue.
  runnable: sql(`SELECT ${REQUEST} FROM completion_requests r WHERE r.status = 'queued' AND r.next_attempt_at <= ? AND ${NOT_PARKED} AND ${HEAD} ORDER BY r.priority, r.seq LIMIT ?`),
  queuedOf: sql(`SELECT r.request_id AS "requestId", r.session_id AS "sessionId", r.attempts FROM completion_requests r WHERE r.status = 'queued' AND r.account = ? ORDER BY r.priority, r.seq`),
  queuedByAccount: sql(`SELECT account, COUNT(*) AS n FROM completion_requests WHERE status = 'queued' GROUP BY account`),
  // Only an unblocked head's backoff can end in a start; blocked rows are woken when their queue moves.
  nextWake: sql(`SELECT MIN(r.next_attempt_at) FROM completion_requests r WHERE r.status = 'queued' AND r.next_attempt_at > ? AND ${HEAD}`),
  start: sql(`UPDATE completion_requests SET status = 'processing', attempts = attempts + 1, started_at = @now, pid = NULL WHERE request_id = @id AND status = 'queued'`),
  setPid: sql('UPDATE completion_requests SET pid = ? WHERE request_id = ?'),
  complete: sql(
    `UPDATE completion_requests SET status = 'completed', result = @result, result_session_id = @session, completed_at = @now, pid = NULL, last_error = NULL, error_code = NULL WHERE request_id = @id`,
  ),
  retry: sql(`UPDATE completion_requests SET status = 'queued', next_attempt_at = @at, last_error = @error, error_code = @code, pid = NULL, ${AT_LEAST('@minMax')} WHERE request_id = @id`),
  // Each interrupted request may run once more, beyond its budget.
  requeueInterrupted: sql(
    `UPDATE completion_requests SET status = 'queued', next_attempt_at = @now, last_error = @error, error_code = @code, pid = NULL, ${AT_LEAST('attempts + 1')}
     WHERE status = 'processing' RETURNING request_id`,
  ),
  fail: sql(`UPDATE completion_requests SET status = @status, last_error = @error, error_code = @code, completed_at = @now, pid = NULL WHERE request_id = @id`),
  cancelWaiting: sql(`UPDATE completion_requests SET status = 'cancelled', completed_at = ?, error_code = 'cancelled', pid = NULL WHERE request_id = ? AND ${ACTIVE}`),
  active: sql(`SELECT request_id AS "requestId", status, attempts, queue_key AS "queueKey" FROM completion_requests WHERE ${ACTIVE} ORDER BY seq`),
  // SQLite takes a JSON array of ids with json_each, PostgreSQL with jsonb_array_elements_text.
  statuses: sql(
    'SELECT request_id AS "requestId", status FROM completion_requests WHERE request_id IN (SELECT value FROM json_each(?))',
    'SELECT request_id AS "requestId", status FROM completion_requests WHERE request_id IN (SELECT jsonb_array_elements_text(?::jsonb))',
  ),
  counts: sql('SELECT status, COUNT(*) AS n FROM completion_requests GROUP BY status'),
  // Equal times in acceptance order: SQLite's index gives that order, PostgreSQL none without `seq`.
  retrying: sql(`SELECT ${REQUEST} FROM completion_requests r WHERE r.status = 'queued' AND r.attempts > 0 ORDER BY r.next_attempt_at, r.seq`),
  queues: sql(
    `SELECT queue_key AS "queueKey", SUM(CASE WHEN status = 'queued' THEN 1 ELSE 0 END) AS queued, SUM(CASE WHEN status = 'processing' THEN 1 ELSE 0 END) AS processing
     FROM completion_requests WHERE ${ACTIVE} GROUP BY queue_key ORDER BY MIN(seq)`,
  ),
  ofChain: sql(
    `SELECT ${REQUEST} FROM completion_requests r
     WHERE r.session_id = @root OR r.session_id IN (SELECT session_id FROM session_links WHERE root_session_id = @root)
        OR r.result_session_id = @root OR r.result_session_id IN (SELECT session_id FROM session_links WHERE root_session_id = @root)
     ORDER BY r.seq`,
  ),
  link: sql(
    `INSERT INTO session_links (session_id, parent_session_id, root_session_id, request_id, created_at) VALUES (@session, @parent, @root, @request, @now)
     ON CONFLICT (session_id) DO NOTHING`,
  ),
  rootOf: sql('SELECT root_session_id FROM session_links WHERE session_id = ?'),
  newestOf: sql(
    `SELECT l.session_id FROM session_links l WHERE l.root_session_id = ? ORDER BY ${newestFirst.sqlite} LIMIT 1`,
    `SELECT l.session_id FROM session_links l WHERE l.root_session_id = ? ORDER BY ${newestFirst.postgres} LIMIT 1`,
  ),
  chainOf: sql(
    `SELECT l.session_id FROM session_links l WHERE l.root_session_id = ? ORDER BY ${oldestFirst.sqlite}`,
    `SELECT l.session_id FROM session_links l WHERE l.root_session_id = ? ORDER BY ${oldestFirst.postgres}`,
  ),
};

/** Every query of completion_requests and of session_links, the session chain. Times are epoch ms. */
@Injectable()
export class CompletionRepository {
  constructor(private readonly storage: Storage) {}

  async insert(request: NewRequest): Promise<void> {
    await this.storage.write((tx) => tx.run(statements.insert, request));
  }

  byId(requestId: string): Promise<CompletionRequest | undefined> {
    return this.storage.get<CompletionRequest>(statements.byId, [requestId]);
  }

  /** Queue heads due at `now`, by priority then acceptance. */
  runnable(now: number, limit: number): Promise<CompletionRequest[]> {
    return this.storage.all<CompletionRequest>(statements.runnable, [now, now, limit]);
  }

  /** An account's queued requests, in the order they would start. */
  queuedOf(account: string): Promise<Pick<CompletionRequest, 'requestId' | 'sessionId' | 'attempts'>[]> {
    return this.storage.all(statements.queuedOf, [account]);
  }

  /** Queued requests per account. */
  async queuedByAccount(): Promise<Map<string, number>> {
    const rows = await this.storage.all<{ account: string; n: number }>(statements.queuedByAccount);
    return new Map(rows.map((row) => [row.account, Number(row.n)]));
  }

  /** The earliest future time a queue head's backoff ends; null when none is waiting. */
  async nextWake(now: number): Promise<number | null> {
    const [next] = await this.storage.column<number | null>(statements.nextWake, [now]);
    return next ?? null;
  }

  /** Moves a queued request to processing; false when it is no longer queued (say, cancelled). */
  start(id: string, now: number): Promise<boolean> {
    return this.storage.write(async (tx) => (await tx.run(statements.start, { id, now })) === 1);
  }

  async setPid(id: string, pid: number): Promise<void> {
    await this.storage.write((tx) => tx.run(statements.setPid, [pid, id]));
  }

  /**
   * Completed, and the returned session linked to the session it resumed. A resume that kept the
   * session's id adds no link: the session is already in its chain, and never its own parent.
   */
  complete(id: string, result: string, session: string | undefined, resumed: string | undefined, now: number): Promise<void> {
    return this.storage.write(async (tx) => {
      await tx.run(statements.complete, { id, result, session: session ?? null, now });
      if (!session || session === resumed) return;
      const [linkedRoot] = resumed ? await tx.column<string>(statements.rootOf, [resumed]) : [];
      const root = resumed ? (linkedRoot ?? resumed) : session;
      await tx.run(statements.link, { session, parent: resumed ?? null, root, request: id, now });
    });
  }

  /** Back to the queue until `at`; `minMax` lets a daemon restart add an attempt beyond the budget. */
  async retry(id: string, at: number, error: string, code: CompletionErrorCode, minMax = 0): Promise<void> {
    await this.storage.write((tx) => tx.run(statements.retry, { id, at, error, code, minMax }));
  }

  /** Every request left `processing` back to the queue, due at `now`; resolves with their ids. */
  requeueInterrupted(now: number, error: string, code: CompletionErrorCode): Promise<string[]> {
    return this.storage.write((tx) => tx.column<string>(statements.requeueInterrupted, { now, error, code }));
  }

  async fail(id: string, status: 'failed' | 'cancelled', error: string, code: CompletionErrorCode, now: number): Promise<void> {
    await this.storage.write((tx) => tx.run(statements.fail, { id, status, error, code, now }));
  }

  /** Cancels a request no attempt is running for: queued, or left `processing` by an attempt that ended. */
  cancelWaiting(id: string, now: number): Promise<boolean> {
    return this.storage.write(async (tx) => (await tx.run(statements.cancelWaiting, [now, id])) === 1);
  }

  /** Unfinished requests in acceptance order. */
  active(): Promise<ActiveRequest[]> {
    return this.storage.all<ActiveRequest>(statements.active);
  }

  /** The status of each of `ids` that has a row. */
  async statuses(ids: string[]): Promise<Map<string, CompletionRequest['status']>> {
    const rows = await this.storage.all<Pick<CompletionRequest, 'requestId' | 'status'>>(statements.statuses, [JSON.stringify(ids)]);
    return new Map(rows.map((row) => [row.requestId, row.status]));
  }

  async counts(): Promise<Record<string, number>> {
    const rows = await this.storage.all<{ status: string; n: number }>(statements.counts);
    return Object.fromEntries(rows.map((row) => [row.status, row.n]));
  }

  /** Queued requests that have run before, soonest first. */
  retrying(): Promise<CompletionRequest[]> {
    return this.storage.all<CompletionRequest>(statements.retrying);
  }

  /** Queue keys with unfinished requests, in the order their oldest was accepted. */
  queues(): Promise<QueueLoad[]> {
    return this.storage.all<QueueLoad>(statements.queues);
  }

  /** The newest session of the chain `sessionId` belongs to; an unknown id is its own newest. */
  async newestSession(sessionId: string): Promise<string> {
    const [newest] = await this.storage.column<string>(statements.newestOf, [await this.rootOf(sessionId)]);
    return newest ?? sessionId;
  }

  /** The chain `sessionId` belongs to: its root, then the sessions linked to it in the order they were made. */
  async chain(sessionId: string): Promise<{ root: string; sessions: string[] }> {
    const root = await this.rootOf(sessionId);
    const linked = await this.storage.column<string>(statements.chainOf, [root]);
    return { root, sessions: [root, ...linked.filter((id) => id !== root)] };
  }

  /** Requests that resumed or returned a session of the chain rooted at `root`, in acceptance order. */
  ofChain(root: string): Promise<CompletionRequest[]> {
    return this.storage.all<CompletionRequest>(statements.ofChain, { root });
  }

  private async rootOf(sessionId: string): Promise<string> {
    const [root] = await this.storage.column<string>(statements.rootOf, [sessionId]);
    return root ?? sessionId;
  }
}
