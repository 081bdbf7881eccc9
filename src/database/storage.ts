import type { Dialect, SqlParams, SqlStatement } from './sql-statement';

/** What a repository runs statements on: the storage itself for reads, a transaction inside `write`. */
export interface SqlSession {
  readonly dialect: Dialect;
  /** Every row. */
  all<R>(statement: SqlStatement, params?: SqlParams): Promise<R[]>;
  /** The first row, if any. */
  get<R>(statement: SqlStatement, params?: SqlParams): Promise<R | undefined>;
  /** The first column of every row. */
  column<V>(statement: SqlStatement, params?: SqlParams): Promise<V[]>;
  /** Runs a statement; resolves with the number of rows it changed. */
  run(statement: SqlStatement, params?: SqlParams): Promise<number>;
}

/**
 * A unit of work inside one transaction. It runs statements on `tx` only and awaits nothing else
 * (no timers, no network, no other write): the transaction stays open, and the writes queued behind
 * it wait, until it returns.
 */
export type WriteJob<T> = (tx: SqlSession) => Promise<T>;

/**
 * A write of one row by one statement. PostgreSQL writes the rows of the same RowWrite queued one
 * after another with one statement, a round trip for all of them instead of one each; SQLite runs
 * each row's statement without a savepoint (a statement that fails undoes itself).
 */
export interface RowWrite<Row> {
  /** The statement of one row, which takes the row as its values. */
  one: SqlStatement;
  /** PostgreSQL's statement of many rows, in PostgreSQL's spelling ($n placeholders). */
  many: SqlStatement;
  /** The values of `many` for these rows, in queue order; rows that change the same row are merged here (the statement may touch a row once). */
  manyValues(rows: Row[]): unknown[];
}

/** A queued write and the promise `write` returned for it. */
export interface PendingWrite {
  job: WriteJob<unknown>;
  /** Set by `writeRow`: `job` runs `row` alone. */
  row?: { write: RowWrite<unknown>; value: unknown };
  /** Set by `writeStatement` and `writeReturning`: `job` runs this statement alone. */
  statement?: { statement: SqlStatement; params?: SqlParams; returning: boolean };
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * The entry `enqueue` queues: every field set, in one order, so the batch loops read one object
 * shape. (Spreading `write` into it made the entries slow to read: pipelined state:set ran 28%
 * faster without the spread.)
 */
export function pendingWrite(write: Pick<PendingWrite, 'job' | 'row' | 'statement'>, resolve: PendingWrite['resolve'], reject: PendingWrite['reject']): PendingWrite {
  return { job: write.job, row: write.row, statement: write.statement, resolve, reject };
}

/** What one job of a committed batch came to. */
export type WriteOutcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/** Writes failing because of the storage itself, since the first of them, until a commit succeeds again. */
export interface StorageFault {
  /** The engine's code: SQLITE_FULL, SQLITE_CORRUPT, ... or PostgreSQL's SQLSTATE / the socket's error code. */
  code: string;
  error: string;
  /** Epoch seconds. */
  at: number;
}

/**
 * The database, SQLite or PostgreSQL: the only thing repositories hold, and nothing else holds it.
 * Reads run at once; writes go through `write`, which commits the jobs queued together in one
 * transaction (group commit), each in its own savepoint so one failing job fails alone, and resolves
 * a job's promise only after its transaction committed.
 */
export abstract class Storage implements SqlSession {
  abstract readonly dialect: Dialect;
  /** Where the data is, for people: the file's path, or the server and database (never a password). */
  abstract readonly location: string;
  /** Reported by system:health: the last write failed because of the storage. */
  storageFault?: StorageFault;

  abstract all<R>(statement: SqlStatement, params?: SqlParams): Promise<R[]>;
  abstract get<R>(statement: SqlStatement, params?: SqlParams): Promise<R | undefined>;
  abstract column<V>(statement: SqlStatement, params?: SqlParams): Promise<V[]>;
  abstract run(statement: SqlStatement, params?: SqlParams): Promise<number>;
  /** Resolves once committed, with what the job returned. */
  write<T>(job: WriteJob<T>): Promise<T> {
    return this.enqueue({ job }) as Promise<T>;
  }

  /**
   * Runs `job` in a transaction of its own beside the write queue, not in it: for writes whose order
   * against the others does not matter (the event log's rows, written in batches of hundreds), so
   * that the queue's writes do not wait behind them. SQLite has one writer: there it is `write`.
   */
  writeAside<T>(job: WriteJob<T>): Promise<T> {
    return this.write(job);
  }

  /**
   * One statement, queued like any write; resolves once committed, with the number of rows it
   * changed. A statement is atomic on its own: SQLite runs it without a savepoint, and PostgreSQL
   * alone in its batch without a transaction, one round trip instead of three.
   */
  writeStatement(statement: SqlStatement, params?: SqlParams): Promise<number> {
    return this.enqueue({ job: (tx) => tx.run(statement, params), statement: { statement, params, returning: false } }) as Promise<number>;
  }

  /** As `writeStatement`, for a statement with RETURNING: resolves with the rows it returned. */
  writeReturning<R>(statement: SqlStatement, params?: SqlParams): Promise<R[]> {
    return this.enqueue({ job: (tx) => tx.all(statement, params), statement: { statement, params, returning: true } }) as Promise<R[]>;
  }

  /** One row through `write.one`, queued like any write; resolves once committed. */
  writeRow<Row extends object>(write: RowWrite<Row>, row: Row): Promise<void> {
    return this.enqueue({ job: (tx) => tx.run(write.one, row), row: { write: write as RowWrite<unknown>, value: row } }) as Promise<void>;
  }

  /**
   * Tells every node sharing the database (PostgreSQL's NOTIFY, delivered once committed work is
   * visible to them, this node's own listeners included). Nothing on SQLite: its file has one node.
   */
  abstract signal(channel: string, payload: string): Promise<void>;
  /** Calls `listener` with the payload of each signal on `channel`. */
  abstract onSignal(channel: string, listener: (payload: string) => void): void;
  /**
   * Calls `listener` each time signals may have been missed: the connection that hears them was lost
   * and listens again. Whoever acts on signals looks at the database again then. Never on SQLite.
   */
  abstract onSignalsMissed(listener: () => void): void;
  /**
   * Runs `job` unless another node sharing the database runs the job of this name now (PostgreSQL's
   * advisory lock, released when the job ends or its node dies): periodic upkeep runs on one node at
   * a time, and on another once that one is gone. Undefined when another node held it. SQLite: at once.
   */
  abstract exclusively<T>(name: string, job: () => Promise<T>): Promise<T | undefined>;
  /**
   * A number that stays the same while this node knows that no other can change the database, so
   * that what it read may be answered from memory; a new number means memory from before cannot be
   * trusted; undefined while another node may write. SQLite: always the same (its file has one node).
   */
  abstract soleEpoch(): number | undefined;
  /**
   * Holds `nodeId` for this daemon while it runs; rejects (a StartupError) when another daemon
   * sharing the database holds it. SQLite: at once (its var dir's lock keeps it to one daemon).
   */
  abstract claimNode(nodeId: string): Promise<void>;
  /** Stops listening for signals (at shutdown). */
  abstract onApplicationShutdown(): Promise<void>;

  protected abstract enqueue(write: Pick<PendingWrite, 'job' | 'row' | 'statement'>): Promise<unknown>;
  /** Commits whatever is queued now; used at shutdown so nothing accepted is left behind. */
  abstract flush(): Promise<void>;
  /** A cheap read of the schema; rejects when the storage cannot be read. */
  abstract check(): Promise<void>;

  /** The engine's error as the client should see it (a coded error when the storage is at fault), recorded for system:health. */
  protected abstract storageFailure(error: unknown): unknown;

  /** A batch committed after `fault`: the storage works again. */
  protected recovered(_fault: StorageFault): void {}

  /** Answers a batch's jobs: all with `failure` when the transaction failed, else each with its outcome. */
  protected settle(batch: PendingWrite[], outcomes: WriteOutcome[], failure: unknown): void {
    if (failure !== undefined) {
      for (const entry of batch) entry.reject(failure);
      return;
    }
    if (this.storageFault) {
      this.recovered(this.storageFault);
      this.storageFault = undefined;
    }
    for (let i = 0; i < batch.length; i++) {
      const outcome = outcomes[i];
      if (outcome.ok) batch[i].resolve(outcome.value);
      else batch[i].reject(this.storageFailure(outcome.error));
    }
  }
}
