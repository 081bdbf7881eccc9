import { Inject, Injectable } from '@nestjs/common';
import type { Database, Statement } from 'better-sqlite3';
import { SQLITE } from '../../database/sqlite.provider';
import { WriteQueue } from '../../database/write-queue';
import type { CompletionErrorCode } from '../../../libs/client/src';
import type { CompletionStatus } from './completion-request.entity';
import type { CostColumns } from './cost.repository';

/** A completion_requests row as SQLite returns it. */
export interface RequestRow extends CostColumns {
  request_id: string;
  seq: number;
  status: CompletionStatus;
  queue_key: string;
  session_id: string | null;
  result_session_id: string | null;
  /** The index in COMPLETION_PRIORITIES. */
  priority: number;
  model: string;
  payload: string;
  attempts: number;
  max_attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  error_code: CompletionErrorCode | null;
  result: string | null;
  client_id: string | null;
  agent_id: string | null;
  pid: number | null;
  queued_at: number;
  started_at: number | null;
  completed_at: number | null;
  profile: string | null;
}

export type NewRequest = Omit<RequestRow, keyof CostColumns | 'seq' | 'result_session_id' | 'last_error' | 'error_code' | 'result' | 'pid' | 'started_at' | 'completed_at'>;

const ACTIVE = "status IN ('queued', 'processing')";

/** Completion rows and the session chain, as prepared statements; every write through the WriteQueue. */
@Injectable()
export class CompletionRepository {
  private readonly sql: Record<string, Statement>;

  constructor(
    @Inject(SQLITE) db: Database,
    private readonly writes: WriteQueue,
  ) {
    this.sql = {
      insert: db.prepare(
        `INSERT INTO completion_requests (request_id, seq, status, queue_key, session_id, priority, model, payload, attempts, max_attempts, next_attempt_at, client_id, agent_id, profile, queued_at)
         VALUES (@request_id, (SELECT COALESCE(MAX(seq), 0) + 1 FROM completion_requests), @status, @queue_key, @session_id, @priority, @model, @payload, @attempts, @max_attempts, @next_attempt_at, @client_id, @agent_id, @profile, @queued_at)`,
      ),
      byId: db.prepare('SELECT * FROM completion_requests WHERE request_id = ?'),
      // A queue's head is its oldest active request; a processing head blocks the rest of its queue.
      runnable: db.prepare(
        `SELECT r.* FROM completion_requests r
         WHERE r.status = 'queued' AND r.next_attempt_at <= ?
           AND NOT EXISTS (SELECT 1 FROM completion_requests p WHERE p.queue_key = r.queue_key AND p.seq < r.seq AND p.${ACTIVE})
         ORDER BY r.priority, r.seq LIMIT ?`,
      ),
      // Only an unblocked head's backoff can end in a start; blocked rows are woken when their queue moves.
      nextWake: db
        .prepare(
          `SELECT MIN(r.next_attempt_at) FROM completion_requests r
           WHERE r.status = 'queued' AND r.next_attempt_at > ?
             AND NOT EXISTS (SELECT 1 FROM completion_requests p WHERE p.queue_key = r.queue_key AND p.seq < r.seq AND p.${ACTIVE})`,
        )
        .pluck(),
      start: db.prepare(`UPDATE completion_requests SET status = 'processing', attempts = attempts + 1, started_at = @now, pid = NULL WHERE request_id = @id AND status = 'queued'`),
      setPid: db.prepare('UPDATE completion_requests SET pid = ? WHERE request_id = ?'),
      complete: db.prepare(
        `UPDATE completion_requests SET status = 'completed', result = @result, result_session_id = @session, completed_at = @now, pid = NULL, last_error = NULL, error_code = NULL WHERE request_id = @id`,
      ),
      retry: db.prepare(
        `UPDATE completion_requests SET status = 'queued', next_attempt_at = @at, last_error = @error, error_code = @code, pid = NULL, max_attempts = MAX(max_attempts, @minMax) WHERE request_id = @id`,
      ),
      fail: db.prepare(`UPDATE completion_requests SET status = @status, last_error = @error, error_code = @code, completed_at = @now, pid = NULL WHERE request_id = @id`),
      cancelWaiting: db.prepare(`UPDATE completion_requests SET status = 'cancelled', completed_at = ?, error_code = 'cancelled', pid = NULL WHERE request_id = ? AND ${ACTIVE}`),
      interrupted: db.prepare(`SELECT * FROM completion_requests WHERE status = 'processing'`),
      active: db.prepare(`SELECT request_id, status, attempts, queue_key FROM completion_requests WHERE ${ACTIVE} ORDER BY seq`),
      counts: db.prepare('SELECT status, COUNT(*) AS n FROM completion_requests GROUP BY status'),
      retrying: db.prepare(`SELECT * FROM completion_requests WHERE status = 'queued' AND attempts > 0 ORDER BY next_attempt_at`),
      queues: db.prepare(
        `SELECT queue_key, SUM(status = 'queued') AS queued, SUM(status = 'processing') AS processing FROM completion_requests WHERE ${ACTIVE} GROUP BY queue_key ORDER BY MIN(seq)`,
      ),
      bySessions: db.prepare(
        `SELECT * FROM completion_requests WHERE session_id IN (SELECT value FROM json_each(?)) OR result_session_id IN (SELECT value FROM json_each(?)) ORDER BY seq`,
      ),
      link: db.prepare(
        'INSERT OR IGNORE INTO session_links (session_id, parent_session_id, root_session_id, request_id, created_at) VALUES (@session, @parent, @root, @request, @now)',
      ),
      linkOf: db.prepare('SELECT root_session_id FROM session_links WHERE session_id = ?').pluck(),
      newestOf: db.prepare('SELECT session_id FROM session_links WHERE root_session_id = ? ORDER BY created_at DESC, rowid DESC LIMIT 1').pluck(),
      chainOf: db.prepare('SELECT session_id FROM session_links WHERE root_session_id = ? ORDER BY created_at, rowid').pluck(),
    };
  }

  insert(row: NewRequest): Promise<void> {
    return this.writes.run(() => void this.sql.insert.run(row));
  }

  byId(requestId: string): RequestRow | undefined {
    return this.sql.byId.get(requestId) as RequestRow | undefined;
  }

  runnable(now: number, limit: number): RequestRow[] {
    return this.sql.runnable.all(now, limit) as RequestRow[];
  }

  /** The earliest future time a queue head's backoff ends; null when none is waiting. */
  nextWake(now: number): number | null {
    return this.sql.nextWake.get(now) as number | null;
  }

  /** Moves a queued request to processing; false when it is no longer queued (say, cancelled). */
  start(id: string, now: number): Promise<boolean> {
    return this.writes.run(() => this.sql.start.run({ id, now }).changes === 1);
  }

  setPid(id: string, pid: number): Promise<void> {
    return this.writes.run(() => void this.sql.setPid.run(pid, id));
  }

  /**
   * Completed, and the returned session linked to the session it resumed. A resume that kept the
   * session's id adds no link: the session is already in its chain, and never its own parent.
   */
  complete(id: string, result: string, session: string | undefined, resumed: string | undefined, now: number): Promise<void> {
    return this.writes.run(() => {
      this.sql.complete.run({ id, result, session: session ?? null, now });
      if (!session || session === resumed) return;
      const root = resumed ? ((this.sql.linkOf.get(resumed) as string | undefined) ?? resumed) : session;
      this.sql.link.run({ session, parent: resumed ?? null, root, request: id, now });
    });
  }

  /** Back to the queue until `at`; `minMax` lets a daemon restart add an attempt beyond the budget. */
  retry(id: string, at: number, error: string, code: CompletionErrorCode, minMax = 0): Promise<void> {
    return this.writes.run(() => void this.sql.retry.run({ id, at, error, code, minMax }));
  }

  fail(id: string, status: 'failed' | 'cancelled', error: string, code: CompletionErrorCode, now: number): Promise<void> {
    return this.writes.run(() => void this.sql.fail.run({ id, status, error, code, now }));
  }

  /** Cancels a request no attempt is running for: queued, or left `processing` by an attempt that ended. */
  cancelWaiting(id: string, now: number): Promise<boolean> {
    return this.writes.run(() => this.sql.cancelWaiting.run(now, id).changes === 1);
  }

  interrupted(): RequestRow[] {
    return this.sql.interrupted.all() as RequestRow[];
  }

  active(): Pick<RequestRow, 'request_id' | 'status' | 'attempts' | 'queue_key'>[] {
    return this.sql.active.all() as Pick<RequestRow, 'request_id' | 'status' | 'attempts' | 'queue_key'>[];
  }

  counts(): Record<string, number> {
    const rows = this.sql.counts.all() as { status: string; n: number }[];
    return Object.fromEntries(rows.map((row) => [row.status, row.n]));
  }

  retrying(): RequestRow[] {
    return this.sql.retrying.all() as RequestRow[];
  }

  queues(): { queue_key: string; queued: number; processing: number }[] {
    return this.sql.queues.all() as { queue_key: string; queued: number; processing: number }[];
  }

  /** The newest session of the chain `sessionId` belongs to; an unknown id is its own newest. */
  newestSession(sessionId: string): string {
    const root = (this.sql.linkOf.get(sessionId) as string | undefined) ?? sessionId;
    return (this.sql.newestOf.get(root) as string | undefined) ?? sessionId;
  }

  chain(sessionId: string): { root: string; sessions: string[] } {
    const root = (this.sql.linkOf.get(sessionId) as string | undefined) ?? sessionId;
    return { root, sessions: [root, ...(this.sql.chainOf.all(root) as string[]).filter((id) => id !== root)] };
  }

  bySessions(sessions: string[]): RequestRow[] {
    const json = JSON.stringify(sessions);
    return this.sql.bySessions.all(json, json) as RequestRow[];
  }
}
