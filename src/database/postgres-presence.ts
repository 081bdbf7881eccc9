import { performance } from 'node:perf_hooks';
import { Client, type ClientConfig } from 'pg';
import type { Logger } from 'pino';

/** The advisory lock (two-key form, apart from `exclusively`'s one-key locks) that every node holds shared, and a node alone holds exclusively too. */
const LOCK = [0x6b7369, 1] as const;
const LOCK_ROWS = `locktype = 'advisory' AND classid = ${LOCK[0]} AND objid = ${LOCK[1]} AND objsubid = 2 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`;
/** How long one wait for the shared lock lasts before the node asks the holder to yield again. */
const WAIT_MS = 250;
/**
 * How long the server lets a transaction of this connection wait for its next statement before
 * ending the session: a TTL, and at least this, so that a node starved of CPU for a moment keeps
 * its write.
 */
const IDLE_TRANSACTION_FLOOR_MS = 5_000;
/** See IDLE_TRANSACTION_FLOOR_MS: for every connection of a node that writes in transactions. */
export const idleTransactionTimeoutMs = (ttlMs: number): number => Math.max(ttlMs, IDLE_TRANSACTION_FLOOR_MS);
/** The code of the error writes fail with when the presence cannot be taken (see PostgresStorage's unavailable codes). */
export const PRESENCE_UNAVAILABLE = 'KSI_PRESENCE';

/**
 * This node's presence among the daemons sharing a PostgreSQL database: an advisory lock held on
 * the connection every write of the node runs on. Every node holds it shared; a node that finds no
 * other also holds it exclusively and is then the only one that can change anything, so it may
 * answer reads from memory (see `soleEpoch`). A node about to write for the first time asks the
 * holder to yield (`askToYield`, a signal) and waits; the holder also yields when its periodic look
 * finds a node waiting. A holder that does not yield within two TTLs (paused, its session alive) has
 * its session ended, and with it any write of its still open; it trusts its memory only within half
 * a TTL of its last look (by both the monotonic and the wall clock), which it will not have had.
 * Since every write runs on a presence connection (but the event log's, which no memory holds: see
 * Storage.writeAside), no write of another node can land once a node holds the lock exclusively.
 */
export class PostgresPresence {
  private client?: Client;
  private sole = false;
  /** performance.now() and Date.now() of the last look that found this node still alone. */
  private confirmedAt = -Infinity;
  private confirmedAtWall = -Infinity;
  private epoch = 0;
  private timer?: NodeJS.Timeout;
  private closed = false;
  /** Writes and looks take turns on the connection. */
  private turns: Promise<unknown> = Promise.resolve();
  private warnedAboutHolder = false;

  constructor(
    private readonly config: ClientConfig,
    private readonly ttlMs: number,
    private readonly askToYield: () => Promise<void>,
    private readonly log?: Pick<Logger, 'warn'>,
  ) {}

  /**
   * A number that stays the same while this node is, and knows it is, the only one that can change
   * the database; undefined otherwise. A new number means memory from before cannot be trusted.
   */
  soleEpoch(): number | undefined {
    if (!this.sole) return undefined;
    const fresh = performance.now() - this.confirmedAt < this.ttlMs / 2 && Date.now() - this.confirmedAtWall < this.ttlMs / 2;
    return fresh ? this.epoch : undefined;
  }

  /**
   * Runs `work` on the connection that holds this node's presence, taking it first if need be; one
   * at a time. Rejects (code PRESENCE_UNAVAILABLE, or the server's) when it cannot be taken.
   */
  use<T>(work: (client: Client) => Promise<T>): Promise<T> {
    return this.inTurn(async () => work(this.client ?? (await this.join())));
  }

  /** A connection whose transaction ended in an unknown state is not used again. */
  discard(): void {
    if (this.client) this.lost(this.client);
  }

  /**
   * A node alone yields, asked by a node about to write; without looking for it among the lock's
   * waiters first, since the asker may not be waiting yet. Being asked wrongly costs a look later.
   */
  yieldToOthers(): void {
    if (this.sole) void this.inTurn(() => this.giveUpSole());
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.dropSole();
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private inTurn<T>(work: () => Promise<T>): Promise<T> {
    const run = this.turns.then(work);
    this.turns = run.catch(() => undefined);
    return run;
  }

  private async join(): Promise<Client> {
    if (this.closed) throw Object.assign(new Error('the daemon is stopping: nothing more is written'), { code: PRESENCE_UNAVAILABLE });
    const client = new Client({ ...this.config, keepAlive: true, keepAliveInitialDelayMillis: this.ttlMs / 3, application_name: `ksi presence ${process.pid}` });
    client.on('error', () => this.lost(client));
    client.on('end', () => this.lost(client));
    try {
      await client.connect();
      // Every write runs here. A node paused (or cut off) inside a transaction would hold the rows it
      // touched from every other node until it woke; the server ends it instead, by which time the
      // node's leases have ended too. KSI's transactions wait on nothing but the database. A SET, not
      // a startup parameter, which poolers such as PgBouncer refuse.
      await client.query(`SET idle_in_transaction_session_timeout = ${idleTransactionTimeoutMs(this.ttlMs)}`);
      await this.takeShared(client);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    this.client = client;
    await this.look();
    this.schedule();
    return client;
  }

  /**
   * Waits for the shared lock, asking a node alone to yield; ends the session of one that has not
   * yielded within two TTLs, and gives up after three.
   */
  private async takeShared(client: Client): Promise<void> {
    const started = performance.now();
    await client.query(`SET lock_timeout = ${WAIT_MS}`);
    for (;;) {
      const alone = await client.query<{ held: boolean }>(`SELECT pg_try_advisory_lock_shared(${LOCK[0]}, ${LOCK[1]}) AS held`);
      if (alone.rows[0].held) break;
      // Waiting first, then asking: a holder asked before the wait began might see nobody waiting.
      const waiting = client.query(`SELECT pg_advisory_lock_shared(${LOCK[0]}, ${LOCK[1]})`).then(
        () => undefined,
        (error: unknown) => error,
      );
      await this.askToYield().catch(() => undefined);
      const failure = await waiting;
      if (failure === undefined) break;
      if ((failure as { code?: string }).code !== '55P03') throw failure;
      const waited = performance.now() - started;
      if (this.closed || waited > 3 * this.ttlMs) {
        throw Object.assign(new Error('another node holds the database alone and does not yield'), { code: PRESENCE_UNAVAILABLE });
      }
      if (waited > 2 * this.ttlMs) {
        if (!this.warnedAboutHolder) this.log?.warn('a node alone on the database did not yield within two TTLs; ending its session');
        this.warnedAboutHolder = true;
        await client
          .query(`SELECT pg_terminate_backend(pid) FROM pg_locks WHERE ${LOCK_ROWS} AND mode = 'ExclusiveLock' AND granted`)
          .catch((error: Error) => this.log?.warn(`its session not ended: ${error.message}`));
      }
    }
    await client.query('SET lock_timeout = 0');
  }

  private schedule(): void {
    if (this.closed || !this.client || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.inTurn(() => this.look()).finally(() => this.schedule());
    }, this.ttlMs / 3).unref();
  }

  /** A node alone yields to a node waiting; a node not alone takes the exclusive lock once no other holds it. */
  private async look(): Promise<void> {
    const client = this.client;
    if (!client) return;
    const started = performance.now();
    const startedWall = Date.now();
    try {
      if (this.sole) {
        // pg_locks lists waits for the shared lock as rows not granted.
        const { rows } = await client.query<{ waiting: boolean }>(`SELECT EXISTS (SELECT 1 FROM pg_locks WHERE ${LOCK_ROWS} AND NOT granted) AS waiting`);
        if (rows[0].waiting) await this.giveUpSole();
        else {
          this.confirmedAt = started;
          this.confirmedAtWall = startedWall;
        }
      } else {
        const { rows } = await client.query<{ alone: boolean }>(`SELECT pg_try_advisory_lock(${LOCK[0]}, ${LOCK[1]}) AS alone`);
        if (rows[0].alone && this.client === client) {
          this.epoch++;
          this.sole = true;
          this.confirmedAt = started;
          this.confirmedAtWall = startedWall;
        }
      }
    } catch {
      this.lost(client);
    }
  }

  private async giveUpSole(): Promise<void> {
    const client = this.client;
    if (!client || !this.sole) return;
    this.dropSole();
    try {
      await client.query(`SELECT pg_advisory_unlock(${LOCK[0]}, ${LOCK[1]})`);
    } catch {
      this.lost(client);
    }
  }

  private dropSole(): void {
    if (!this.sole) return;
    this.sole = false;
    this.epoch++;
  }

  /** The session ended, and so did its locks and any write still open on it; the next write takes the presence again. */
  private lost(client: Client): void {
    if (this.client !== client) return;
    this.client = undefined;
    this.dropSole();
    clearTimeout(this.timer);
    this.timer = undefined;
    void client.end().catch(() => undefined);
    if (!this.closed) this.log?.warn('PostgreSQL presence connection lost; the next write takes it again');
  }
}
