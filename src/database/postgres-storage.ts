import type { ClientBase, ClientConfig, Pool, PoolClient, QueryResult } from 'pg';
import type { Logger } from 'pino';
import { STORAGE_FULL, STORAGE_UNAVAILABLE } from '../../libs/client/src';
import { systemClock, type Clock } from '../common/clock';
import { EventError } from '../events/event-error';
import { PostgresNodeClaim } from './postgres-node-claim';
import { idleTransactionTimeoutMs, PRESENCE_UNAVAILABLE, PostgresPresence } from './postgres-presence';
import { PostgresSignals } from './postgres-signals';
import type { SqlParams, SqlStatement } from './sql-statement';
import { pendingWrite, Storage, type PendingWrite, type SqlSession, type StorageFault, type WriteJob, type WriteOutcome } from './storage';

type Queryable = Pick<Pool, 'query'> | PoolClient;

/** SQLSTATE classes and socket errors that say the server or the way to it is at fault (or the server ended the session, as after a transaction left idle), not the statement. */
const UNAVAILABLE_CODES = new RegExp(`^(08|57P0[1-5]|25P03|53300|ECONNREFUSED|ECONNRESET|ENOENT|EPIPE|ETIMEDOUT|EHOSTUNREACH|${PRESENCE_UNAVAILABLE})`);
const UNAVAILABLE_MESSAGES = /Connection terminated|not queryable|timeout exceeded when trying to connect|Client was closed|not currently accepting connections/i;
/** character_not_in_repertoire, untranslatable_character: text PostgreSQL cannot hold (NUL, chiefly). */
const UNSTORABLE_TEXT_CODES = /^(22021|22P05)$/;
/** disk_full: the server cannot take the write. */
const FULL_CODES = /^53100$/;
/** A node joining asks a node alone to yield its presence. */
const PRESENCE_SIGNAL = 'ksi_presence';

/** Where the part of the batch starting at `start` ends: past the rows of the same RowWrite queued one after another, else past the job. */
function endOfPart(batch: PendingWrite[], start: number): number {
  const write = batch[start].row?.write;
  let end = start + 1;
  if (write) while (end < batch.length && batch[end].row?.write === write) end++;
  return end;
}

/**
 * COMMIT of a transaction in which a statement failed rolls it back without an error (its tag says
 * ROLLBACK): a job that caught its own statement's error must not make the batch look committed.
 */
async function commit(client: ClientBase): Promise<void> {
  const { command } = await client.query('COMMIT');
  if (command !== 'COMMIT') throw new Error(`the transaction was rolled back at COMMIT (${command}): a statement in it had failed`);
}

/** A connection's statements as a SqlSession: the pool for reads, one client inside a transaction. */
class PostgresSession implements SqlSession {
  readonly dialect = 'postgres' as const;

  constructor(
    private readonly on: () => Queryable,
    private readonly failure: (error: unknown) => unknown,
  ) {}

  async all<R>(statement: SqlStatement, params?: SqlParams): Promise<R[]> {
    return (await this.query(statement, params)).rows as R[];
  }

  async get<R>(statement: SqlStatement, params?: SqlParams): Promise<R | undefined> {
    return (await this.query(statement, params)).rows[0] as R | undefined;
  }

  async column<V>(statement: SqlStatement, params?: SqlParams): Promise<V[]> {
    const result = await this.query(statement, params, 'array');
    return result.rows.map((row) => (row as unknown[])[0] as V);
  }

  async run(statement: SqlStatement, params?: SqlParams): Promise<number> {
    return (await this.query(statement, params)).rowCount ?? 0;
  }

  private async query(statement: SqlStatement, params: SqlParams | undefined, rowMode?: 'array'): Promise<QueryResult> {
    const { text } = statement.forPostgres();
    try {
      const config = { name: statement.name, text, values: statement.postgresValues(params) };
      return await (rowMode ? this.on().query({ ...config, rowMode }) : this.on().query(config));
    } catch (error) {
      throw this.failure(error);
    }
  }
}

/**
 * PostgreSQL through TypeORM's pool (`pg`). Reads take any pooled connection; writes queue like
 * SQLite's: the jobs queued while a transaction runs commit together in the next one, on one
 * connection. One batch at a time keeps the order jobs were queued in, which callers rely on as
 * they do with SQLite. (Batches of rows on several connections at once were measured: no faster at
 * 16 connections, since each batch's rows already go in one statement.)
 */
export class PostgresStorage extends Storage {
  readonly dialect = 'postgres' as const;
  private readonly reads: PostgresSession;
  private pending: PendingWrite[] = [];
  /** The batch being committed, if any: one at a time. */
  private committing?: Promise<void>;
  private readonly signals: PostgresSignals;
  private readonly presence: PostgresPresence;
  /** It listens for nodes asking a node alone to yield (from its first write on). */
  private yieldsHeard = false;
  private nodeClaim?: PostgresNodeClaim;
  /** The pool's connection settings, for the connections of its own each of presence, signals and the node claim opens. */
  private readonly connection: ClientConfig;

  constructor(
    private readonly pool: Pool,
    readonly location: string,
    private readonly clock: Clock = systemClock,
    private readonly log?: Pick<Logger, 'warn' | 'info'>,
    private readonly leaseTtlMs = 15_000,
  ) {
    super();
    this.reads = new PostgresSession(() => this.pool, (error) => this.storageFailure(error));
    this.connection = (pool as unknown as { options: ClientConfig }).options;
    this.signals = new PostgresSignals(this.connection, log);
    this.presence = new PostgresPresence(this.connection, leaseTtlMs, () => this.signal(PRESENCE_SIGNAL, ''), log);
  }

  async signal(channel: string, payload: string): Promise<void> {
    try {
      await this.pool.query('SELECT pg_notify($1, $2)', [channel, payload]);
    } catch (error) {
      throw this.storageFailure(error);
    }
  }

  onSignal(channel: string, listener: (payload: string) => void): void {
    this.signals.listen(channel, listener);
  }

  onSignalsMissed(listener: () => void): void {
    this.signals.onResumed(listener);
  }

  soleEpoch(): number | undefined {
    return this.presence.soleEpoch();
  }

  async claimNode(nodeId: string): Promise<void> {
    const claim = new PostgresNodeClaim(this.connection, nodeId, this.leaseTtlMs, this.log);
    await claim.take();
    this.nodeClaim = claim;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.flush();
    await this.presence.close();
    await this.signals.close();
    await this.nodeClaim?.close();
  }

  exclusively<T>(name: string, job: () => Promise<T>): Promise<T | undefined> {
    return this.onPooledClient(async (client, markBroken) => {
      let locked = false;
      try {
        locked = (await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock(hashtext($1)) AS locked', [name])).rows[0].locked;
        return locked ? await job() : undefined;
      } finally {
        // A connection whose unlock failed may still hold the lock: it is closed, not given back.
        if (locked) await client.query('SELECT pg_advisory_unlock(hashtext($1))', [name]).catch(markBroken);
      }
    });
  }

  all<R>(statement: SqlStatement, params?: SqlParams): Promise<R[]> {
    return this.reads.all(statement, params);
  }

  get<R>(statement: SqlStatement, params?: SqlParams): Promise<R | undefined> {
    return this.reads.get(statement, params);
  }

  column<V>(statement: SqlStatement, params?: SqlParams): Promise<V[]> {
    return this.reads.column(statement, params);
  }

  run(statement: SqlStatement, params?: SqlParams): Promise<number> {
    return this.reads.run(statement, params);
  }

  /**
   * On a pooled connection: the presence connection is for the writes a node alone may answer from
   * memory (see PostgresPresence). Like those, a transaction left open (its node paused) is ended by
   * the server, rather than holding back vacuum and schema changes for as long as the pause lasts.
   */
  override writeAside<T>(job: WriteJob<T>): Promise<T> {
    return this.onPooledClient(async (client, markBroken) => {
      try {
        await client.query(`BEGIN; SET LOCAL idle_in_transaction_session_timeout = ${idleTransactionTimeoutMs(this.leaseTtlMs)}`);
        const value = await job(new PostgresSession(() => client, (error) => error));
        await commit(client);
        return value;
      } catch (error) {
        // A connection whose rollback failed is in an unknown state: closed, not given back.
        await client.query('ROLLBACK').catch(markBroken);
        throw this.storageFailure(error);
      }
    });
  }

  /**
   * Runs `work` on a connection of the pool and gives it back, or closes it when `work` marked it
   * broken or the server ended its session meanwhile. pg-pool listens for a connection's errors only
   * while it is idle: without a listener here, a session ended while checked out (a restart of the
   * server, the idle-transaction timeout of a paused node) would be an uncaught error.
   */
  private async onPooledClient<T>(work: (client: PoolClient, markBroken: (error: Error) => void) => Promise<T>): Promise<T> {
    let client: PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw this.storageFailure(error);
    }
    let broken: Error | undefined;
    const markBroken = (error: Error) => {
      broken ??= error;
    };
    client.on('error', markBroken);
    try {
      return await work(client, markBroken);
    } finally {
      client.off('error', markBroken);
      client.release(broken);
    }
  }

  protected enqueue(write: Pick<PendingWrite, 'job' | 'row' | 'statement'>): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.pending.push(pendingWrite(write, resolve, reject));
      if (!this.committing) void this.commitPending();
    });
  }

  async flush(): Promise<void> {
    while (this.pending.length > 0 || this.committing) await (this.committing ?? this.commitPending());
  }

  async check(): Promise<void> {
    try {
      await this.pool.query('SELECT 1');
    } catch (error) {
      const failure = this.storageFailure(error);
      // system:health states the cause; the advice to a request (retry, see system:health) is not for it.
      throw failure instanceof EventError && failure.code === STORAGE_UNAVAILABLE ? new Error(this.unreachable(error)) : failure;
    }
  }

  private present<T>(work: (client: ClientBase) => Promise<T>): Promise<T> {
    if (!this.yieldsHeard) {
      this.yieldsHeard = true;
      this.signals.listen(PRESENCE_SIGNAL, () => this.presence.yieldToOthers());
    }
    return this.presence.use(work);
  }

  private commitPending(): Promise<void> {
    this.committing = this.commitBatch().finally(() => {
      this.committing = undefined;
      if (this.pending.length > 0) void this.commitPending();
    });
    return this.committing;
  }

  private async commitBatch(): Promise<void> {
    // Let the jobs queued in this turn of the event loop join the batch.
    await new Promise((resolve) => setImmediate(resolve));
    const batch = this.pending;
    this.pending = [];
    let outcomes: WriteOutcome[] = [];
    let failure: unknown;
    try {
      // Writes run on the connection that holds this node's presence (see PostgresPresence).
      outcomes = await this.present((client) => {
        const tx = new PostgresSession(() => client, (error) => error);
        return this.runTogether(client, tx, batch).then((together) => together ?? this.runOneByOne(client, tx, batch));
      });
    } catch (error) {
      failure = this.storageFailure(error);
      // A connection that failed mid-transaction is not used again.
      this.presence.discard();
    }
    this.settle(batch, outcomes, failure);
  }

  /**
   * Every job of the batch in one transaction: no savepoint per job, since each would cost a round
   * trip. Undefined, rolled back, when a job failed: then the batch runs again one by one. A batch
   * that is one run of rows, or one statement alone (writeStatement), is atomic without a
   * transaction: one round trip, not three.
   */
  private async runTogether(client: ClientBase, tx: SqlSession, batch: PendingWrite[]): Promise<WriteOutcome[] | undefined> {
    const oneStatement = batch[0].row ? endOfPart(batch, 0) === batch.length : batch.length === 1 && batch[0].statement !== undefined;
    if (oneStatement) return this.runPart(tx, batch).catch(() => undefined);
    await client.query('BEGIN');
    const outcomes: WriteOutcome[] = [];
    for (let start = 0; start < batch.length; ) {
      const end = endOfPart(batch, start);
      try {
        outcomes.push(...(await this.runPart(tx, batch.slice(start, end))));
      } catch (error) {
        await client.query('ROLLBACK');
        return batch.length === 1 ? [{ ok: false, error }] : undefined;
      }
      start = end;
    }
    await commit(client);
    return outcomes;
  }

  /** A lone job, or a run of rows of one RowWrite as one statement. */
  private async runPart(tx: SqlSession, part: PendingWrite[]): Promise<WriteOutcome[]> {
    if (part.length === 1) return [{ ok: true, value: await part[0].job(tx) }];
    const { write } = part[0].row!;
    await tx.run(write.many, write.manyValues(part.map(({ row }) => row!.value)));
    return part.map(() => ({ ok: true, value: undefined }));
  }

  /** Each job in its own transaction, in order, so that only the failing one fails. */
  private async runOneByOne(client: ClientBase, tx: SqlSession, batch: PendingWrite[]): Promise<WriteOutcome[]> {
    const outcomes: WriteOutcome[] = [];
    for (const { job } of batch) {
      await client.query('BEGIN');
      try {
        const value = await job(tx);
        await commit(client);
        outcomes.push({ ok: true, value });
      } catch (error) {
        await client.query('ROLLBACK');
        outcomes.push({ ok: false, error });
      }
    }
    return outcomes;
  }

  /** Said once: while the server was away, the retry loops' warnings were written once a minute at most. */
  protected override recovered(fault: StorageFault): void {
    this.log?.info({ since: new Date(fault.at * 1000).toISOString(), err: fault.error }, `PostgreSQL server at ${this.location} answers again: writes commit`);
  }

  /** Turns the server's or the socket's failures into coded errors a client can act on, and records them for system:health. */
  protected storageFailure(error: unknown): unknown {
    if (error instanceof EventError) return error;
    const code = String((error as { code?: unknown } | null | undefined)?.code ?? '');
    const message = (error as Error | null | undefined)?.message ?? String(error);
    if (UNSTORABLE_TEXT_CODES.test(code)) {
      return new EventError('invalid_params', `PostgreSQL cannot store this text (${message}): a key, name or id holds the NUL character (\\u0000) or one the database's encoding lacks.`);
    }
    const unavailable = UNAVAILABLE_CODES.test(code) || UNAVAILABLE_MESSAGES.test(message);
    const full = FULL_CODES.test(code);
    if (!unavailable && !full) return error;
    this.storageFault = { code: code || 'connection_lost', error: message, at: this.storageFault?.at ?? this.clock.now() / 1000 };
    if (full) return new EventError(STORAGE_FULL, `The PostgreSQL server at ${this.location} has no space left: nothing was written. Free some space and retry.`);
    return new EventError(STORAGE_UNAVAILABLE, `${this.unreachable(error)}: the request was not carried out. Retry once it is back; system:health shows its state.`);
  }

  private unreachable(error: unknown): string {
    return `The PostgreSQL server at ${this.location} cannot be reached (${(error as Error | null | undefined)?.message ?? String(error)})`;
  }
}
