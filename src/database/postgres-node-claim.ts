import { setTimeout as sleep } from 'node:timers/promises';
import { Client, type ClientConfig } from 'pg';
import type { Logger } from 'pino';
import { StartupError } from '../lifecycle/startup-failure';

/** The class of the advisory lock (two-key form) that holds a node id; apart from the presence's. */
const NODE_CLASS = 0x6b736e;
/** How often a start looks again while the id is held. */
const LOOK_EVERY_MS = 100;

/** The session holding a node id, as a start sees it. */
interface Holder {
  pid: number;
  /** When it last ran a statement (the server's clock, epoch ms); null when this role may not see it. */
  activeAt: number | null;
  silentMs: number | null;
}

/**
 * This daemon's hold on its node id among the daemons sharing a PostgreSQL database: an advisory
 * lock on a connection of its own, for as long as it runs. A second daemon started under the same
 * id (a copied environment) would take the first's work for its own, as a restarted node takes back
 * what it left, and kill its runs; it is refused instead.
 *
 * The holder runs a statement every third of the TTL. A start that finds the id held waits: a
 * daemon just killed releases it with its session; a holder that runs a statement meanwhile is
 * alive, and the start is refused; one silent for two TTLs (its host died and the server has not
 * noticed, or it is paused) has its session ended. A daemon that finds its id taken by another when
 * it reconnects (it was paused, or cut off) exits at once: two daemons under one id would each take
 * the other's work for its own.
 */
export class PostgresNodeClaim {
  private client?: Client;
  /** The server process of the session that holds the id: ended at once when this daemon takes it again. */
  private heldBy?: number;
  private timer?: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly config: ClientConfig,
    private readonly nodeId: string,
    private readonly ttlMs: number,
    private readonly log?: Pick<Logger, 'warn'>,
  ) {}

  /** Resolves once held; rejects with the one line a failed start prints when another daemon holds it and is alive. */
  async take(): Promise<void> {
    let firstSeen: Holder | undefined;
    for (;;) {
      const holder = await this.tryTake();
      if (holder === undefined) return;
      if (holder.activeAt === null) throw this.refused('a session of another database role holds it');
      if (firstSeen && firstSeen.pid === holder.pid && holder.activeAt > firstSeen.activeAt!) throw this.refused('it is running');
      if (!firstSeen || firstSeen.pid !== holder.pid) {
        firstSeen = holder;
        this.log?.warn({ node_id: this.nodeId }, `another session holds this node id: waiting up to ${(2 * this.ttlMs) / 1000} s for it to end or to show it is alive`);
      }
      await sleep(LOOK_EVERY_MS);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => undefined);
  }

  private refused(why: string): StartupError {
    return new StartupError(
      `KSI daemon cannot start: another daemon runs as node ${this.nodeId} on this database (${why}; \`ksi nodes -o wide\` shows where): give each daemon its own KSI_NODE_ID, or stop that one first.`,
    );
  }

  /**
   * Takes the id, first ending this daemon's own earlier session and any holder silent for two
   * TTLs; undefined once held, else the holder.
   */
  private async tryTake(): Promise<Holder | undefined> {
    const client = new Client({ ...this.config, keepAlive: true, query_timeout: this.ttlMs / 3, application_name: `ksi node ${process.pid}` });
    client.on('error', () => this.lost(client));
    client.on('end', () => this.lost(client));
    let held = false;
    try {
      await client.connect();
      const { rows } = await client.query<{ pid: number; activeAt: number | null; silentMs: number | null }>(
        `SELECT a.pid, EXTRACT(EPOCH FROM a.state_change) * 1000 AS "activeAt", EXTRACT(EPOCH FROM now() - a.state_change) * 1000 AS "silentMs"
         FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
         WHERE l.locktype = 'advisory' AND l.classid = $1 AND l.objid = hashtext($2)::oid AND l.objsubid = 2 AND l.granted`,
        [NODE_CLASS, this.nodeId],
      );
      const holder = rows[0] as Holder | undefined;
      if (holder && (holder.pid === this.heldBy || (holder.silentMs !== null && holder.silentMs > 2 * this.ttlMs))) {
        if (holder.pid !== this.heldBy) this.log?.warn({ node_id: this.nodeId }, 'the daemon that held this node id was silent for two TTLs: its session is ended');
        await this.terminate(client, holder.pid);
      }
      const taken = await client.query<{ held: boolean; pid: number }>('SELECT pg_try_advisory_lock($1, hashtext($2)) AS held, pg_backend_pid() AS pid', [NODE_CLASS, this.nodeId]);
      held = taken.rows[0].held;
      if (held) this.heldBy = taken.rows[0].pid;
      return held ? undefined : holder && { ...holder, activeAt: holder.activeAt === null ? null : Number(holder.activeAt), silentMs: holder.silentMs === null ? null : Number(holder.silentMs) };
    } finally {
      if (held && !this.closed) this.hold(client);
      else await client.end().catch(() => undefined);
    }
  }

  private async terminate(client: Client, pid: number): Promise<void> {
    try {
      await client.query('SELECT pg_terminate_backend($1)', [pid]);
    } catch (error) {
      throw new StartupError(
        `KSI daemon cannot start: the session that held node ${this.nodeId} is silent but cannot be ended (${(error as Error).message}): run every node as the same database role, or grant it pg_signal_backend.`,
      );
    }
  }

  /** A statement every third of the TTL: the holder shows it is alive, and hears soon when its session ended. */
  private hold(client: Client): void {
    this.client = client;
    const ping = () => {
      this.timer = setTimeout(() => {
        if (this.client !== client) return;
        client.query('SELECT 1').then(ping, () => this.lost(client));
      }, this.ttlMs / 3).unref();
    };
    ping();
  }

  /** The session ended or stopped answering (the server restarted, the network failed): the id is taken again as soon as it can be. */
  private lost(client: Client): void {
    if (this.client !== client) return;
    this.client = undefined;
    clearTimeout(this.timer);
    void client.end().catch(() => undefined);
    if (!this.closed) this.retake();
  }

  private retake(): void {
    this.timer = setTimeout(() => {
      this.tryTake().then(
        (holder) => {
          if (holder === undefined) return;
          // Its own earlier session, just ended: gone at the next look.
          if (holder.pid === this.heldBy) return this.retake();
          this.log?.warn({ node_id: this.nodeId }, 'another daemon took this node id while this one was paused or cut off from the database: this one exits, so that they do not both run its work');
          process.exit(1);
        },
        () => this.retake(),
      );
    }, this.ttlMs / 3).unref();
  }
}
