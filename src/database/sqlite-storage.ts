import type { Database, Statement } from 'better-sqlite3';
import { STORAGE_FULL } from '../../libs/client/src';
import { systemClock, type Clock } from '../common/clock';
import { EventError } from '../events/event-error';
import type { SqlParams, SqlStatement } from './sql-statement';
import { pendingWrite, Storage, type PendingWrite, type SqlSession, type WriteJob, type WriteOutcome } from './storage';
import type { WriteLock } from './write-lock';

/** SQLite codes that say the file or its disk is at fault, not the statement. */
const STORAGE_CODES = /^SQLITE_(FULL|CORRUPT|NOTADB|IOERR|READONLY|CANTOPEN)/;

interface Prepared {
  rows?: Statement;
  plucked?: Statement;
}

/** better-sqlite3 binds an array as positional values and an object as named ones. */
const bound = (params: SqlParams | undefined): unknown[] => (params === undefined ? [] : [params]);

/**
 * The embedded default: one better-sqlite3 connection (TypeORM's) on the daemon's thread. Reads are
 * prepared statements run synchronously; better-sqlite3 answers in microseconds, so a promise is all
 * they cost. Jobs queued in the same turn of the event loop commit in one transaction; each commit
 * holds the WriteLock it shares with the event log's writer thread.
 */
export class SqliteStorage extends Storage {
  readonly dialect = 'sqlite' as const;
  readonly location: string;
  private readonly prepared = new WeakMap<SqlStatement, Prepared>();
  private pending: PendingWrite[] = [];
  private scheduled = false;
  /** The transaction being committed, if any: one at a time. */
  private committing?: Promise<void>;
  private readonly begin: Statement;
  private readonly commit: Statement;
  private readonly rollback: Statement;
  private readonly savepoint: Statement;
  private readonly releaseSavepoint: Statement;
  private readonly rollbackToSavepoint: Statement;

  constructor(
    private readonly db: Database,
    private readonly lock: WriteLock,
    private readonly clock: Clock = systemClock,
  ) {
    super();
    this.location = db.name;
    // IMMEDIATE: should another writer hold SQLite's lock after all (a lock wait that timed out), the batch waits for it once, at the start.
    this.begin = db.prepare('BEGIN IMMEDIATE');
    this.commit = db.prepare('COMMIT');
    this.rollback = db.prepare('ROLLBACK');
    this.savepoint = db.prepare('SAVEPOINT job');
    this.releaseSavepoint = db.prepare('RELEASE job');
    this.rollbackToSavepoint = db.prepare('ROLLBACK TO job');
  }

  async signal(): Promise<void> {}

  onSignal(): void {}

  onSignalsMissed(): void {}

  soleEpoch(): number {
    return 0;
  }

  async claimNode(): Promise<void> {}

  async onApplicationShutdown(): Promise<void> {}

  exclusively<T>(_name: string, job: () => Promise<T>): Promise<T> {
    return job();
  }

  all<R>(statement: SqlStatement, params?: SqlParams): Promise<R[]> {
    const prepared = this.rowsOf(statement);
    return Promise.resolve(prepared.all(...bound(params)) as R[]);
  }

  get<R>(statement: SqlStatement, params?: SqlParams): Promise<R | undefined> {
    const prepared = this.rowsOf(statement);
    return Promise.resolve(prepared.get(...bound(params)) as R | undefined);
  }

  column<V>(statement: SqlStatement, params?: SqlParams): Promise<V[]> {
    const entry = this.entryOf(statement);
    entry.plucked ??= this.db.prepare(statement.text).pluck();
    return Promise.resolve(entry.plucked.all(...bound(params)) as V[]);
  }

  run(statement: SqlStatement, params?: SqlParams): Promise<number> {
    const prepared = this.rowsOf(statement);
    return Promise.resolve(prepared.run(...bound(params)).changes);
  }

  protected enqueue(write: Pick<PendingWrite, 'job' | 'row' | 'statement'>): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.pending.push(pendingWrite(write, resolve, reject));
      this.schedule();
    });
  }

  async flush(): Promise<void> {
    while (this.committing || this.pending.length > 0) await (this.committing ?? this.commitPending());
  }

  check(): Promise<void> {
    this.db.prepare('SELECT count(*) FROM sqlite_master').get();
    return Promise.resolve();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (!this.committing && this.pending.length > 0) void this.commitPending();
    });
  }

  private commitPending(): Promise<void> {
    this.committing = this.commitBatch().finally(() => {
      this.committing = undefined;
      if (this.pending.length > 0) this.schedule();
    });
    return this.committing;
  }

  /** Commits what is queued once the event log's writer is out of the way, including what was queued while waiting for it. */
  private async commitBatch(): Promise<void> {
    const acquired = await this.lock.acquireWithoutBlocking();
    const batch = this.pending;
    this.pending = [];
    const outcomes: WriteOutcome[] = new Array(batch.length);
    let failure: unknown;
    try {
      this.begin.run();
      try {
        for (let i = 0; i < batch.length; i++) {
          const write = batch[i];
          outcomes[i] = write.row || write.statement ? this.alone(write) : await this.inSavepoint(write.job);
        }
        this.commit.run();
      } catch (error) {
        if (this.db.inTransaction) this.rollback.run();
        failure = this.storageFailure(error);
      }
    } catch (error) {
      failure = this.storageFailure(error);
    } finally {
      if (acquired) this.lock.release();
    }
    this.settle(batch, outcomes, failure);
  }

  /** A single statement needs no savepoint: when it fails SQLite undoes it alone, unless the error ended the whole transaction. */
  private alone({ row, statement }: PendingWrite): WriteOutcome {
    try {
      if (!row) return { ok: true, value: this.runAlone(statement!) };
      this.rowsOf(row.write.one).run(row.value);
      return { ok: true, value: undefined };
    } catch (error) {
      if (!this.db.inTransaction) throw error;
      return { ok: false, error };
    }
  }

  private runAlone({ statement, params, returning }: NonNullable<PendingWrite['statement']>): unknown {
    const prepared = this.rowsOf(statement);
    return returning ? prepared.all(...bound(params)) : prepared.run(...bound(params)).changes;
  }

  private async inSavepoint(job: WriteJob<unknown>): Promise<WriteOutcome> {
    this.savepoint.run();
    try {
      const value = await job(this as SqlSession);
      this.releaseSavepoint.run();
      return { ok: true, value };
    } catch (error) {
      this.rollbackToSavepoint.run();
      this.releaseSavepoint.run();
      return { ok: false, error };
    }
  }

  private rowsOf(statement: SqlStatement): Statement {
    const entry = this.entryOf(statement);
    entry.rows ??= this.db.prepare(statement.text);
    return entry.rows;
  }

  private entryOf(statement: SqlStatement): Prepared {
    let entry = this.prepared.get(statement);
    if (!entry) {
      entry = {};
      this.prepared.set(statement, entry);
    }
    return entry;
  }

  /** Records a storage fault; a full disk becomes `storage_full`, a sentence the client can act on. */
  protected storageFailure(error: unknown): unknown {
    const code = (error as { code?: unknown } | null | undefined)?.code;
    if (typeof code !== 'string' || !STORAGE_CODES.test(code)) return error;
    this.storageFault = { code, error: (error as Error).message, at: this.storageFault?.at ?? this.clock.now() / 1000 };
    if (!code.startsWith('SQLITE_FULL')) return error;
    return new EventError(STORAGE_FULL, `The disk holding the database ${this.location} is full: nothing was written. Free some space and retry.`);
  }
}
