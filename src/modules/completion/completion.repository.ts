import { Inject, Injectable } from '@nestjs/common';
import type { CompletionErrorCode } from '../../../libs/client/src';
import { KSI_CONFIG, type KsiConfig } from '../../config/config';
import { sql } from '../../database/sql-statement';
import { Storage } from '../../database/storage';
import type { CompletionRequest } from './completion-request.entity';
import { COST_COLUMNS, type CostColumns } from './cost.repository';

/** A request as admission writes it: no attempt, no outcome and no cost yet; `seq` is given by the insert. */
export type NewRequest = Omit<
  CompletionRequest,
  keyof CostColumns | 'seq' | 'resultSessionId' | 'lastError' | 'errorCode' | 'result' | 'pid' | 'startedAt' | 'completedAt' | 'acceptedBy' | 'owner' | 'leaseEpoch' | 'leaseExpiresAt'
>;

/** A request as this node's lease holds it: writes that finish its work are fenced by this epoch. */
export type Leased = Pick<CompletionRequest, 'requestId' | 'leaseEpoch'>;

/** A request another node's lease held until it expired, as the takeover found it. */
export interface TakenOver {
  requestId: string;
  sessionId: string | null;
  owner: string;
  acceptedBy: string | null;
  attempts: number;
}

/** A turn of a conversation: a completed request that returned a session, and its standardised response (JSON). */
export interface FinishedTurn {
  rootSessionId: string;
  sessionId: string;
  result: string;
  completedAt: number;
  seq: number;
}

/** Where a page of finished turns starts: after this turn (see idx_completion_requests_finished). */
export type FinishedTurnCursor = Pick<FinishedTurn, 'completedAt' | 'seq'>;

/** What the checkpoint lists of an unfinished request. */
export type ActiveRequest = Pick<CompletionRequest, 'requestId' | 'status' | 'attempts' | 'queueKey' | 'owner'>;

/** One queue key's unfinished requests. */
export interface QueueLoad {
  queueKey: string;
  queued: number;
  processing: number;
}

const REQUEST = `r.request_id AS "requestId", r.seq, r.status, r.queue_key AS "queueKey", r.session_id AS "sessionId",
  r.result_session_id AS "resultSessionId", r.priority, r.model, r.payload, r.attempts, r.max_attempts AS "maxAttempts",
  r.next_attempt_at AS "nextAttemptAt", r.last_error AS "lastError", r.error_code AS "errorCode", r.result, r.client_id AS "clientId",
  r.agent_id AS "agentId", r.pid, r.queued_at AS "queuedAt", r.started_at AS "startedAt", r.completed_at AS "completedAt", r.profile, r.account, ${COST_COLUMNS},
  r.cause, r.accepted_by AS "acceptedBy", r.owner, r.lease_epoch AS "leaseEpoch", r.lease_expires_at AS "leaseExpiresAt"`;

/** REQUEST as SQLite's RETURNING spells it: the updated table's columns, unqualified. */
const RETURNED_REQUEST = REQUEST.replace(/\br\./g, '');

/** PostgreSQL's unique_violation. */
const UNIQUE_VIOLATION = '23505';

const ACTIVE = "status IN ('queued', 'processing')";

/** No earlier request of the same queue key is unfinished: `r` is its queue's head. */
const HEAD = `NOT EXISTS (SELECT 1 FROM completion_requests p WHERE p.queue_key = r.queue_key AND p.seq < r.seq AND p.${ACTIVE})`;

/** No request of `r`'s queue runs: one accepted on another node may hold it though its `seq` is higher (nodes' inserts commit in any order). */
const QUEUE_FREE = "NOT EXISTS (SELECT 1 FROM completion_requests q WHERE q.queue_key = r.queue_key AND q.status = 'processing')";

/** This node's lease on the row, as claimed: a node that lost it (expired, taken over, cancelled) changes nothing. */
const FENCE = "owner = @me AND lease_epoch = @epoch AND status = 'processing'";

/** What ends a lease: the request leaves `processing`. */
const NO_LEASE = 'owner = NULL, lease_expires_at = NULL';

/** The request's account is not parked by a usage window at @now. */
const NOT_PARKED = 'NOT EXISTS (SELECT 1 FROM usage_windows w WHERE w.account = r.account AND w.paused_until > @now)';

/** The payload of a row that bars a turn never queued: no request has it. */
const NEVER_QUEUED = '{"never_queued":true}';

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

/** A completed request that returned a session, with the first session of its chain (a session no link names is its own). */
const finishedTurn = (requests = 'completion_requests r') => `SELECT COALESCE(l.root_session_id, r.result_session_id) AS "rootSessionId", r.result_session_id AS "sessionId", r.result,
    r.completed_at AS "completedAt", r.seq
  FROM ${requests} LEFT JOIN session_links l ON l.session_id = r.result_session_id
  WHERE r.status = 'completed' AND r.result_session_id IS NOT NULL AND (r.completed_at, r.seq) > (@completedAt, @seq)`;
const FINISHED_TURN_PAGE = 'ORDER BY r.completed_at, r.seq LIMIT @limit';
const OF_CHAIN = '(r.result_session_id = @root OR r.result_session_id IN (SELECT session_id FROM session_links WHERE root_session_id = @root))';

const statements = {
  // SQLite has one writer; PostgreSQL's nodes insert at once, so its order comes from a sequence.
  insert: sql(
    `INSERT INTO completion_requests (request_id, seq, status, queue_key, session_id, priority, model, payload, attempts, max_attempts, next_attempt_at, client_id, agent_id, profile, account, queued_at, cause, accepted_by)
     VALUES (@requestId, (SELECT COALESCE(MAX(seq), 0) + 1 FROM completion_requests), @status, @queueKey, @sessionId, @priority, @model, @payload, @attempts, @maxAttempts, @nextAttemptAt, @clientId, @agentId, @profile, @account, @queuedAt, @cause, @me)
     ON CONFLICT (request_id) DO NOTHING`,
    `INSERT INTO completion_requests (request_id, seq, status, queue_key, session_id, priority, model, payload, attempts, max_attempts, next_attempt_at, client_id, agent_id, profile, account, queued_at, cause, accepted_by)
     VALUES (@requestId, nextval('completion_requests_seq'), @status, @queueKey, @sessionId, @priority, @model, @payload, @attempts, @maxAttempts, @nextAttemptAt, @clientId, @agentId, @profile, @account, @queuedAt, @cause, @me)
     ON CONFLICT (request_id) DO NOTHING`,
  ),
  byId: sql(`SELECT ${REQUEST} FROM completion_requests r WHERE r.request_id = ?`),
  // The id of an agent's turn its node named and died before queuing: taken by an ended row, so that node cannot queue it late.
  barNeverQueued: sql(
    `INSERT INTO completion_requests (request_id, seq, status, queue_key, priority, model, payload, attempts, max_attempts, next_attempt_at, last_error, error_code, agent_id, queued_at, completed_at, accepted_by)
     VALUES (@id, (SELECT COALESCE(MAX(seq), 0) + 1 FROM completion_requests), 'cancelled', @queue, 1, '', '${NEVER_QUEUED}', 0, 0, @now, @error, 'cancelled', @agent, @now, @now, @me)
     ON CONFLICT (request_id) DO NOTHING`,
    `INSERT INTO completion_requests (request_id, seq, status, queue_key, priority, model, payload, attempts, max_attempts, next_attempt_at, last_error, error_code, agent_id, queued_at, completed_at, accepted_by)
     VALUES (@id, nextval('completion_requests_seq'), 'cancelled', @queue, 1, '', '${NEVER_QUEUED}', 0, 0, @now, @error, 'cancelled', @agent, @now, @now, @me)
     ON CONFLICT (request_id) DO NOTHING`,
  ),
  barredOf: sql(`SELECT request_id FROM completion_requests WHERE request_id IN (SELECT value FROM json_each(?)) AND payload = '${NEVER_QUEUED}'`, `SELECT request_id FROM completion_requests WHERE request_id IN (SELECT jsonb_array_elements_text(?::jsonb)) AND payload = '${NEVER_QUEUED}'`),
  // Leases on the queue heads due now whose queue runs nothing, in one statement; on PostgreSQL rows
  // other nodes are claiming are skipped, not waited for. There, a request for an agent KSI runs is
  // claimed only by the agent's node, where its workspace and tools are: read from the agent's row in
  // the same statement, so that no copy of it can go stale (an agent adopted meanwhile, or released by
  // a node stopping, whose requests then wait). Rows come back in no particular order.
  claim: sql(
    `UPDATE completion_requests SET status = 'processing', owner = @me, lease_epoch = lease_epoch + 1, lease_expires_at = @until, pid = NULL
     WHERE request_id IN (SELECT r.request_id FROM completion_requests r WHERE r.status = 'queued' AND r.next_attempt_at <= @now AND ${NOT_PARKED} AND ${HEAD} AND ${QUEUE_FREE}
       ORDER BY r.priority, r.seq LIMIT @limit)
     RETURNING ${RETURNED_REQUEST}`,
    `WITH heads AS (SELECT r.request_id FROM completion_requests r WHERE r.status = 'queued' AND r.next_attempt_at <= @now AND ${NOT_PARKED} AND ${HEAD} AND ${QUEUE_FREE}
       AND (r.agent_id IS NULL OR NOT EXISTS (SELECT 1 FROM agents a WHERE a.agent_id = r.agent_id AND a.owner IS DISTINCT FROM @me))
       ORDER BY r.priority, r.seq LIMIT @limit FOR UPDATE SKIP LOCKED)
     UPDATE completion_requests r SET status = 'processing', owner = @me, lease_epoch = r.lease_epoch + 1, lease_expires_at = @until, pid = NULL
     FROM heads WHERE r.request_id = heads.request_id
     RETURNING ${REQUEST}`,
  ),
  release: sql(`UPDATE completion_requests SET status = 'queued', ${NO_LEASE} WHERE request_id = @id AND ${FENCE}`),
  // Only the leases of attempts this node runs: a row it holds but runs no attempt for (a write that failed) expires and is taken over.
  renew: sql(
    `UPDATE completion_requests SET lease_expires_at = @until WHERE owner = @me AND status = 'processing' AND request_id IN (SELECT value FROM json_each(@ids)) RETURNING request_id AS "requestId", lease_epoch AS "leaseEpoch"`,
    `UPDATE completion_requests SET lease_expires_at = @until WHERE owner = @me AND status = 'processing' AND request_id IN (SELECT jsonb_array_elements_text(@ids::jsonb)) RETURNING request_id AS "requestId", lease_epoch AS "leaseEpoch"`,
  ),
  expired: sql(
    `SELECT request_id AS "requestId", session_id AS "sessionId", owner, accepted_by AS "acceptedBy", attempts FROM completion_requests
     WHERE status = 'processing' AND lease_expires_at < @now AND request_id NOT IN (SELECT value FROM json_each(@running))`,
    `SELECT request_id AS "requestId", session_id AS "sessionId", owner, accepted_by AS "acceptedBy", attempts FROM completion_requests
     WHERE status = 'processing' AND lease_expires_at < @now AND request_id NOT IN (SELECT jsonb_array_elements_text(@running::jsonb)) FOR UPDATE SKIP LOCKED`,
  ),
  // Each request taken over may run once more, beyond its budget: losing its node was not its failure.
  takeOver: sql(
    `UPDATE completion_requests SET status = 'queued', ${NO_LEASE}, lease_epoch = lease_epoch + 1, next_attempt_at = @now, last_error = @error, error_code = 'node_lost', pid = NULL, ${AT_LEAST('attempts + 1')}
     WHERE request_id = @id AND status = 'processing' AND lease_expires_at < @now`,
  ),
  nextExpiry: sql(
    `SELECT MIN(lease_expires_at) FROM completion_requests WHERE status = 'processing' AND request_id NOT IN (SELECT value FROM json_each(?))`,
    `SELECT MIN(lease_expires_at) FROM completion_requests WHERE status = 'processing' AND request_id NOT IN (SELECT jsonb_array_elements_text(?::jsonb))`,
  ),
  adoptAgent: sql(
    `UPDATE completion_requests SET accepted_by = @me WHERE agent_id = @agent AND ${ACTIVE} AND (accepted_by IS NULL OR accepted_by NOT IN (SELECT value FROM json_each(@alive)))`,
    `UPDATE completion_requests SET accepted_by = @me WHERE agent_id = @agent AND ${ACTIVE} AND (accepted_by IS NULL OR accepted_by NOT IN (SELECT jsonb_array_elements_text(@alive::jsonb)))`,
  ),
  runningByNode: sql(`SELECT owner, COUNT(*) AS n FROM completion_requests WHERE status = 'processing' AND owner IS NOT NULL GROUP BY owner`),
  queuedOf: sql(`SELECT r.request_id AS "requestId", r.session_id AS "sessionId", r.attempts FROM completion_requests r WHERE r.status = 'queued' AND r.account = ? ORDER BY r.priority, r.seq`),
  queuedByAccount: sql(`SELECT account, COUNT(*) AS n FROM completion_requests WHERE status = 'queued' GROUP BY account`),
  // Only an unblocked head's backoff can end in a start; blocked rows are woken when their queue moves.
  nextWake: sql(`SELECT MIN(r.next_attempt_at) FROM completion_requests r WHERE r.status = 'queued' AND r.next_attempt_at > ? AND ${HEAD}`),
  start: sql(`UPDATE completion_requests SET attempts = attempts + 1, started_at = @now, pid = NULL WHERE request_id = @id AND ${FENCE}`),
  setPid: sql(`UPDATE completion_requests SET pid = @pid WHERE request_id = @id AND ${FENCE}`),
  complete: sql(
    `UPDATE completion_requests SET status = 'completed', result = @result, result_session_id = @session, completed_at = @now, pid = NULL, last_error = NULL, error_code = NULL, ${NO_LEASE} WHERE request_id = @id AND ${FENCE}`,
  ),
  retry: sql(
    `UPDATE completion_requests SET status = 'queued', next_attempt_at = @at, last_error = @error, error_code = @code, pid = NULL, ${NO_LEASE}, ${AT_LEAST('@minMax')} WHERE request_id = @id AND ${FENCE}`,
  ),
  // Each interrupted request may run once more, beyond its budget. @all: every node's (SQLite has one node); else this node's and those no node held.
  requeueInterrupted: sql(
    `UPDATE completion_requests SET status = 'queued', next_attempt_at = @now, last_error = @error, error_code = @code, pid = NULL, ${NO_LEASE}, lease_epoch = lease_epoch + 1, ${AT_LEAST('attempts + 1')}
     WHERE status = 'processing' AND (@all = 1 OR owner = @me OR owner IS NULL) RETURNING request_id AS "requestId"`,
  ),
  fail: sql(`UPDATE completion_requests SET status = @status, last_error = @error, error_code = @code, completed_at = @now, pid = NULL, ${NO_LEASE} WHERE request_id = @id AND ${FENCE}`),
  // A request another node runs is cancelled too: its lease ends here, and that node stops the attempt when it renews.
  cancelWaiting: sql(
    `UPDATE completion_requests SET status = 'cancelled', completed_at = ?, error_code = 'cancelled', pid = NULL, ${NO_LEASE}, lease_epoch = lease_epoch + 1 WHERE request_id = ? AND ${ACTIVE}`,
  ),
  active: sql(
    `SELECT request_id AS "requestId", status, attempts, queue_key AS "queueKey", owner FROM completion_requests
     WHERE ${ACTIVE} AND (@all = 1 OR accepted_by = @me OR owner = @me) ORDER BY seq`,
  ),
  activeOfAgent: sql(`SELECT request_id FROM completion_requests WHERE agent_id = ? AND ${ACTIVE}`),
  agentSession: sql('SELECT 1 FROM completion_requests WHERE agent_id = ? AND queued_at >= ? AND (result_session_id = ? OR session_id = ?) LIMIT 1'),
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
  // Without statistics SQLite would rather search the status index and sort every finished turn for each page (here and below).
  finishedTurns: sql(
    `${finishedTurn('completion_requests r INDEXED BY idx_completion_requests_finished')} ${FINISHED_TURN_PAGE}`,
    `${finishedTurn()} ${FINISHED_TURN_PAGE}`,
  ),
  // The root itself or a session linked to it, both found through the index of the sessions turns returned.
  finishedTurnsOf: sql(
    `${finishedTurn('completion_requests r INDEXED BY idx_completion_requests_result_session')} AND ${OF_CHAIN} ${FINISHED_TURN_PAGE}`,
    `${finishedTurn()} AND ${OF_CHAIN} ${FINISHED_TURN_PAGE}`,
  ),
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
  /** This node: the owner of the leases it takes, and the acceptor of the requests it admits. */
  private readonly me: string;

  constructor(
    private readonly storage: Storage,
    @Inject(KSI_CONFIG) config: KsiConfig,
  ) {
    this.me = config.node.id;
  }

  /** False when a request with this id exists already (the caller chose the id and sent it again). */
  async insert(request: NewRequest): Promise<boolean> {
    return (await this.storage.writeStatement(statements.insert, { ...request, me: this.me })) === 1;
  }

  /**
   * Of an agent's turns named by `requestIds`, those never queued (their node died between naming and
   * queuing them, or the agent was terminated meanwhile), now barred by an ended row that says why in
   * `error`, so that the node cannot queue them late. On PostgreSQL a queuing still uncommitted is
   * waited for, and then it counts as queued.
   */
  barNeverQueued(agentId: string, requestIds: string[], error: string, now: number): Promise<string[]> {
    if (requestIds.length === 0) return Promise.resolve([]);
    return this.storage.write(async (tx) => {
      for (const id of requestIds) await tx.run(statements.barNeverQueued, { id, queue: `agent:${agentId}`, agent: agentId, error, now, me: this.me });
      return tx.column<string>(statements.barredOf, [JSON.stringify(requestIds)]);
    });
  }

  byId(requestId: string): Promise<CompletionRequest | undefined> {
    return this.storage.get<CompletionRequest>(statements.byId, [requestId]);
  }

  /**
   * Takes leases until `until` on up to `limit` queue heads due at `now`, by priority then
   * acceptance, and resolves with them (now `processing`, owned by this node). Undefined when another
   * node claimed one of the same queues at the same moment: look again.
   */
  async claim(now: number, until: number, limit: number): Promise<CompletionRequest[] | undefined> {
    try {
      const rows = await this.storage.writeReturning<CompletionRequest>(statements.claim, { now, until, limit, me: this.me });
      return rows.sort((a, b) => a.priority - b.priority || a.seq - b.seq);
    } catch (error) {
      // The unique index on running queues refused a second claim of one queue.
      if ((error as { code?: string }).code === UNIQUE_VIOLATION) return undefined;
      throw error;
    }
  }

  /** A claimed request that may not start yet goes back to the queue as it was. */
  async release(row: Leased): Promise<void> {
    await this.storage.writeStatement(statements.release, this.fenced(row));
  }

  /** Extends this node's leases on the requests `running` until `until`; resolves with the epoch of each lease it still holds. */
  async renew(running: string[], until: number): Promise<Map<string, number>> {
    const rows = await this.storage.writeReturning<Leased>(statements.renew, { me: this.me, until, ids: JSON.stringify(running) });
    return new Map(rows.map((row) => [row.requestId, row.leaseEpoch]));
  }

  /**
   * Requests whose lease ended before `now` (another node's, or this node's with no attempt running:
   * not in `running`) back to the queue, due at once; resolves with what each was. `before` runs
   * (synchronously) for each inside the transaction, before any node can claim it again.
   */
  takeOverExpired(now: number, running: string[], error: (owner: string) => string, before: (row: TakenOver) => void): Promise<TakenOver[]> {
    return this.storage.write(async (tx) => {
      const expired = await tx.all<TakenOver>(statements.expired, { now, running: JSON.stringify(running) });
      for (const row of expired) {
        before(row);
        await tx.run(statements.takeOver, { id: row.requestId, now, error: error(row.owner) });
      }
      return expired;
    });
  }

  /** When the first lease on a request not in `running` ends unless renewed; null when there is none. */
  async nextExpiry(running: string[]): Promise<number | null> {
    const [next] = await this.storage.column<number | null>(statements.nextExpiry, [JSON.stringify(running)]);
    return next ?? null;
  }

  /**
   * The agent's unfinished requests report to this node from now on (it adopted the agent), but for
   * those a node in `aliveNodes` accepted (its client waits there); resolves with how many.
   */
  adoptAgent(agentId: string, aliveNodes: string[]): Promise<number> {
    return this.storage.writeStatement(statements.adoptAgent, { me: this.me, agent: agentId, alive: JSON.stringify(aliveNodes) });
  }

  /** Requests running per node. */
  async runningByNode(): Promise<Map<string, number>> {
    const rows = await this.storage.all<{ owner: string; n: number }>(statements.runningByNode);
    return new Map(rows.map((row) => [row.owner, Number(row.n)]));
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

  /** Counts the attempt that starts now; false when the lease is lost (cancelled, taken over). */
  start(row: Leased, now: number): Promise<boolean> {
    return this.storage.writeStatement(statements.start, { ...this.fenced(row), now }).then((changes) => changes === 1);
  }

  async setPid(row: Leased, pid: number): Promise<void> {
    await this.storage.writeStatement(statements.setPid, { ...this.fenced(row), pid });
  }

  /**
   * Completed, and the returned session linked to the session it resumed. A resume that kept the
   * session's id adds no link: the session is already in its chain, and never its own parent.
   * False, with nothing written, when the lease is lost.
   */
  complete(row: Leased, result: string, session: string | undefined, resumed: string | undefined, now: number): Promise<boolean> {
    const id = row.requestId;
    return this.storage.write(async (tx) => {
      if ((await tx.run(statements.complete, { ...this.fenced(row), result, session: session ?? null, now })) === 0) return false;
      if (!session || session === resumed) return true;
      const [linkedRoot] = resumed ? await tx.column<string>(statements.rootOf, [resumed]) : [];
      const root = resumed ? (linkedRoot ?? resumed) : session;
      await tx.run(statements.link, { session, parent: resumed ?? null, root, request: id, now });
      return true;
    });
  }

  /** Back to the queue until `at`; `minMax` lets a daemon restart add an attempt beyond the budget. False when the lease is lost. */
  retry(row: Leased, at: number, error: string, code: CompletionErrorCode, minMax = 0): Promise<boolean> {
    return this.storage.writeStatement(statements.retry, { ...this.fenced(row), at, error, code, minMax }).then((changes) => changes === 1);
  }

  /**
   * Requests left `processing` back to the queue, due at `now`; resolves with their ids. `all`: every
   * one (a single node's database); else this node's and those no node held (a cluster's).
   */
  requeueInterrupted(now: number, error: string, code: CompletionErrorCode, all: boolean): Promise<string[]> {
    return this.storage
      .writeReturning<{ requestId: string }>(statements.requeueInterrupted, { now, error, code, me: this.me, all: all ? 1 : 0 })
      .then((rows) => rows.map((row) => row.requestId));
  }

  /** Ends the request for good; false when the lease is lost. */
  fail(row: Leased, status: 'failed' | 'cancelled', error: string, code: CompletionErrorCode, now: number): Promise<boolean> {
    return this.storage.writeStatement(statements.fail, { ...this.fenced(row), status, error, code, now }).then((changes) => changes === 1);
  }

  /** Cancels a request no attempt is running for: queued, or left `processing` by an attempt that ended. */
  cancelWaiting(id: string, now: number): Promise<boolean> {
    return this.storage.writeStatement(statements.cancelWaiting, [now, id]).then((changes) => changes === 1);
  }

  /** Unfinished requests in acceptance order: `all`, or those this node accepted or runs. */
  active(all: boolean): Promise<ActiveRequest[]> {
    return this.storage.all<ActiveRequest>(statements.active, { all: all ? 1 : 0, me: this.me });
  }

  /** The unfinished requests made for an agent. */
  activeOfAgent(agentId: string): Promise<string[]> {
    return this.storage.column<string>(statements.activeOfAgent, [agentId]);
  }

  /** Whether a request made by or for the agent since `since` (epoch ms) returned or resumed the session. */
  async isSessionOf(agentId: string, sessionId: string, since: number): Promise<boolean> {
    return (await this.storage.column(statements.agentSession, [agentId, since, sessionId, sessionId])).length > 0;
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

  /** Up to `limit` finished turns in the order they finished, after `after` (from the first when absent); with `sessionId`, those of its chain only. */
  async finishedTurns(limit: number, after: FinishedTurnCursor = { completedAt: -1, seq: -1 }, sessionId?: string): Promise<FinishedTurn[]> {
    const page = { ...after, limit };
    if (sessionId === undefined) return this.storage.all<FinishedTurn>(statements.finishedTurns, page);
    return this.storage.all<FinishedTurn>(statements.finishedTurnsOf, { ...page, root: await this.rootOf(sessionId) });
  }

  private fenced(row: Leased): { id: string; me: string; epoch: number } {
    return { id: row.requestId, me: this.me, epoch: row.leaseEpoch };
  }

  private async rootOf(sessionId: string): Promise<string> {
    const [root] = await this.storage.column<string>(statements.rootOf, [sessionId]);
    return root ?? sessionId;
  }
}
