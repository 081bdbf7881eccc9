import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, type ClientConfig } from 'pg';
import type { Logger } from 'pino';
import { StartupError } from '../lifecycle/startup-failure';

/** The class of the advisory lock (two-key form) that holds a node id; apart from the presence's. */
const NODE_CLASS = 0x6b736e;
/** How often a start looks again while the id is held. */
const LOOK_EVERY_MS = 100;
/** How long a start waits for the session of a daemon just killed under its id to end before it believes that daemon alive. */
const KILLED_SESSION_GRACE_MS = 2_000;

/**
 * This daemon's hold on its node id among the daemons sharing a PostgreSQL database: an advisory
 * lock on a connection of its own, for as long as it runs. A second daemon started under the same
 * id (a copied environment) would take the first's work for its own, as a restarted node takes back
 * what it left, and kill its runs; it is refused instead. A daemon whose process ended released the
 * id with its session. The holder runs a statement every third of the TTL; a holder silent for two
 * TTLs (its host died and the server has not noticed, or it is paused) has its session ended by the
 * next daemon that starts under the id.
 */
export class PostgresNodeClaim {
  private client?: Client;
  private timer?: NodeJS.Timeout;
  private closed = false;
  private warned = false;

  constructor(
    private readonly config: ClientConfig,
    private readonly nodeId: string,
    private readonly ttlMs: number,
    private readonly log?: Pick<Logger, 'warn'>,
  ) {}

  /**
   * Resolves once held. Waits while the holder is silent (it may be a daemon just killed, whose
   * session ends within moments, or one gone for good, whose session is ended after two TTLs);
   * rejects with the one line a failed start prints when the holder is alive.
   */
  async take(): Promise<void> {
    const started = performance.now();
    for (;;) {
      const holderSilentMs = await this.tryTake();
      if (holderSilentMs === undefined) return;
      if (holderSilentMs < this.ttlMs / 2 && performance.now() - started > KILLED_SESSION_GRACE_MS) {
        throw new StartupError(
          `KSI daemon cannot start: another daemon runs as node ${this.nodeId} on this database (\`ksi nodes -o wide\` shows where): give each daemon its own KSI_NODE_ID, or stop that one first.`,
        );
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

  /**
   * Takes the id, first ending the session of a holder silent for two TTLs; undefined once held,
   * else how long the holder has been silent.
   */
  private async tryTake(): Promise<number | undefined> {
    const client = new Client({ ...this.config, keepAlive: true, application_name: `ksi node ${process.pid}` });
    client.on('error', () => this.lost(client));
    client.on('end', () => this.lost(client));
    let held = false;
    try {
      await client.connect();
      const { rows } = await client.query<{ silentMs: number | null; ended: boolean | null }>(
        `SELECT EXTRACT(EPOCH FROM now() - a.state_change) * 1000 AS "silentMs",
                CASE WHEN a.state_change < now() - make_interval(secs => $3) THEN pg_terminate_backend(a.pid) END AS ended
         FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
         WHERE l.locktype = 'advisory' AND l.classid = $1 AND l.objid = hashtext($2)::oid AND l.objsubid = 2 AND l.granted`,
        [NODE_CLASS, this.nodeId, (2 * this.ttlMs) / 1000],
      );
      if (rows[0]?.ended) this.log?.warn({ node_id: this.nodeId }, 'the daemon that held this node id was silent for two TTLs: its session was ended');
      held = (await client.query<{ held: boolean }>('SELECT pg_try_advisory_lock($1, hashtext($2)) AS held', [NODE_CLASS, this.nodeId])).rows[0].held;
      return held ? undefined : Number(rows[0]?.silentMs ?? 0);
    } finally {
      if (held && !this.closed) this.hold(client);
      else await client.end().catch(() => undefined);
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

  /** The session ended (the server restarted, the network failed): the id is taken again as soon as it can be. */
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
        (holderSilentMs) => {
          if (holderSilentMs === undefined) {
            this.warned = false;
            return;
          }
          if (!this.warned) this.log?.warn({ node_id: this.nodeId }, 'another daemon took this node id while this one was cut off from the database: give each daemon its own KSI_NODE_ID');
          this.warned = true;
          this.retake();
        },
        () => this.retake(),
      );
    }, this.ttlMs / 3).unref();
  }
}
