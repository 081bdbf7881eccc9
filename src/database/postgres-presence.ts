import { performance } from 'node:perf_hooks';
import { Client, type ClientConfig } from 'pg';
import type { Logger } from 'pino';

/** The advisory lock (two-key form, apart from `exclusively`'s one-key locks) that every node holds shared, and a node alone holds exclusively too. */
const LOCK = [0x6b7369, 1] as const;
const LOCK_ROWS = `locktype = 'advisory' AND classid = ${LOCK[0]} AND objid = ${LOCK[1]} AND objsubid = 2 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`;
/** How long one wait for the shared lock lasts before the node asks the holder to yield again. */
const WAIT_MS = 250;

/**
 * This node's presence among the daemons sharing a PostgreSQL database, held as an advisory lock on
 * a dedicated connection. Every node holds it shared while it writes; a node that finds no other
 * also holds it exclusively and is then the only one that can change anything, so it may answer
 * reads from memory (see `soleEpoch`). A node that joins asks the holder to yield (`askToYield`, a
 * signal) and waits; the holder also yields when its periodic look finds a node waiting. A holder
 * that never yields (paused, its session alive) has its session ended after two TTLs: by then it
 * no longer trusts its memory, which it does only within half a TTL of its last look. A node that
 * takes the exclusive lock trusts it from its next look on, a third of a TTL later, so that a write
 * a node had under way when it lost its presence has landed.
 */
export class PostgresPresence {
  private client?: Client;
  /** The presence taken, or being taken; undefined after a failed attempt or a loss. */
  private joining?: Promise<void>;
  private sole = false;
  /** performance.now() of the last look that found this node still alone. */
  private confirmedAt = -Infinity;
  private epoch = 0;
  private timer?: NodeJS.Timeout;
  private closed = false;
  /** Looks run one at a time: they share one connection. */
  private looking: Promise<void> = Promise.resolve();

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
    return this.sole && performance.now() - this.confirmedAt < this.ttlMs / 2 ? this.epoch : undefined;
  }

  /** Resolves once this node holds its presence (writes wait for it); rejects when the database cannot be reached, and the next call tries again. */
  whenPresent(): Promise<void> {
    if (!this.joining) {
      const attempt = this.join();
      this.joining = attempt;
      attempt.catch(() => {
        if (this.joining === attempt) this.joining = undefined;
      });
    }
    return this.joining;
  }

  /** A node alone yields, asked by a node that joins. */
  yieldToOthers(): void {
    if (this.sole) void this.lookNow();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.dropSole();
    await this.client?.end().catch(() => undefined);
  }

  private async join(): Promise<void> {
    if (this.closed) return;
    const client = new Client({ ...this.config, keepAlive: true, application_name: `ksi presence ${process.pid}` });
    client.on('error', () => this.lost(client));
    client.on('end', () => this.lost(client));
    try {
      await client.connect();
      await this.takeShared(client);
    } catch (error) {
      await client.end().catch(() => undefined);
      throw error;
    }
    this.client = client;
    await this.lookNow();
    this.schedule();
  }

  /** Waits for the shared lock, asking a node alone to yield, and ending the session of one that does not yield within two TTLs. */
  private async takeShared(client: Client): Promise<void> {
    const started = performance.now();
    await client.query(`SET lock_timeout = ${WAIT_MS}`);
    for (;;) {
      try {
        await client.query(`SELECT pg_advisory_lock_shared(${LOCK[0]}, ${LOCK[1]})`);
        await client.query('SET lock_timeout = 0');
        return;
      } catch (error) {
        if ((error as { code?: string }).code !== '55P03') throw error;
      }
      await this.askToYield().catch(() => undefined);
      if (performance.now() - started > 2 * this.ttlMs) {
        this.log?.warn('a node alone on the database did not yield its presence within two TTLs; ending its session');
        await client
          .query(`SELECT pg_terminate_backend(pid) FROM pg_locks WHERE ${LOCK_ROWS} AND mode = 'ExclusiveLock' AND granted`)
          .catch((error: Error) => this.log?.warn(`its session not ended: ${error.message}`));
      }
    }
  }

  private schedule(): void {
    if (this.closed) return;
    this.timer = setTimeout(() => void this.lookNow().finally(() => this.schedule()), this.ttlMs / 3).unref();
  }

  private lookNow(): Promise<void> {
    this.looking = this.looking.then(() => this.look());
    return this.looking;
  }

  /** A node alone yields to a node waiting; a node not alone takes the exclusive lock once no other holds it. */
  private async look(): Promise<void> {
    const client = this.client;
    if (!client) return;
    try {
      if (this.sole) {
        const started = performance.now();
        // pg_locks lists waits for a shared lock as rows not granted.
        const { rows } = await client.query<{ waiting: boolean }>(`SELECT EXISTS (SELECT 1 FROM pg_locks WHERE ${LOCK_ROWS} AND NOT granted) AS waiting`);
        if (!this.sole) return;
        if (rows[0].waiting) {
          this.dropSole();
          await client.query(`SELECT pg_advisory_unlock(${LOCK[0]}, ${LOCK[1]})`);
        } else this.confirmedAt = started;
      } else {
        const { rows } = await client.query<{ alone: boolean }>(`SELECT pg_try_advisory_lock(${LOCK[0]}, ${LOCK[1]}) AS alone`);
        if (rows[0].alone && this.client === client) {
          this.epoch++;
          this.sole = true;
          this.confirmedAt = -Infinity;
        }
      }
    } catch {
      this.lost(client);
    }
  }

  private dropSole(): void {
    if (!this.sole) return;
    this.sole = false;
    this.epoch++;
  }

  /** The session ended: so did its locks. Writes wait until the presence is taken again. */
  private lost(client: Client): void {
    if (this.client !== client) return;
    this.client = undefined;
    this.dropSole();
    clearTimeout(this.timer);
    void client.end().catch(() => undefined);
    if (this.closed) return;
    this.joining = undefined;
    this.log?.warn('PostgreSQL presence connection lost; taking it again');
    void this.whenPresent().catch(() => undefined);
  }
}
