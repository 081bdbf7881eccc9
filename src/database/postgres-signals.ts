import { Client, type ClientConfig } from 'pg';
import type { Logger } from 'pino';

/** How soon a lost LISTEN connection is opened again. */
const RECONNECT_MS = 1_000;

/**
 * PostgreSQL's LISTEN on one dedicated connection (a pooled one would drop it when given back),
 * opened again whenever it is lost. Signals sent while it was down are not replayed: once it listens
 * again, `onResumed` listeners look at the database again (and the nodes' polling is the backstop).
 */
export class PostgresSignals {
  private readonly listeners = new Map<string, Set<(payload: string) => void>>();
  private readonly resumed = new Set<() => void>();
  /** A connection was tried before: signals sent since it went (or since it failed) may have been missed. */
  private tried = false;
  private client?: Client;
  /** The connection's statements, one after another: pg takes no query while one runs (pg@9 throws). */
  private statements: Promise<void> = Promise.resolve();
  private closed = false;
  private reconnectTimer?: NodeJS.Timeout;

  constructor(
    private readonly config: ClientConfig,
    private readonly log?: Pick<Logger, 'warn'>,
  ) {}

  listen(channel: string, listener: (payload: string) => void): void {
    let set = this.listeners.get(channel);
    if (!set) {
      this.listeners.set(channel, (set = new Set()));
      if (this.client) this.onConnection(this.client, (client) => client.query(`LISTEN ${quoteIdentifier(channel)}`));
      else this.connect();
    }
    set.add(listener);
  }

  /** Calls `listener` each time the connection listens again after a loss. */
  onResumed(listener: () => void): void {
    this.resumed.add(listener);
  }

  close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    const client = this.client;
    this.client = undefined;
    return client ? client.end().catch(() => undefined) : Promise.resolve();
  }

  private connect(): void {
    if (this.closed || this.client || this.reconnectTimer) return;
    // Keepalive: a connection the network dropped without a word is noticed, and opened again; probes start after 5 s of silence, not the system's 2 hours.
    const client = new Client({ ...this.config, keepAlive: true, keepAliveInitialDelayMillis: 5_000, application_name: `ksi signals ${process.pid}` });
    const resuming = this.tried;
    this.tried = true;
    this.client = client;
    client.on('notification', (message) => {
      for (const listener of this.listeners.get(message.channel) ?? []) {
        try {
          listener(message.payload ?? '');
        } catch (error) {
          // A payload a listener cannot read (another KSI version's) is dropped, not thrown into pg's emitter.
          this.log?.warn(`signal on ${message.channel} not handled: ${(error as Error).message}`);
        }
      }
    });
    client.on('error', () => this.lost(client));
    client.on('end', () => this.lost(client));
    this.statements = Promise.resolve();
    this.onConnection(client, async () => {
      await client.connect();
      for (const channel of this.listeners.keys()) await client.query(`LISTEN ${quoteIdentifier(channel)}`);
      if (resuming) this.callResumed();
    });
  }

  /** Runs `work` on `client` after its earlier statements; a failure means the connection is lost. */
  private onConnection(client: Client, work: (client: Client) => Promise<unknown>): void {
    this.statements = this.statements.then(() => work(client)).then(
      () => undefined,
      () => this.lost(client),
    );
  }

  private callResumed(): void {
    for (const listener of this.resumed) {
      try {
        listener();
      } catch (error) {
        this.log?.warn(`catching up on missed signals failed: ${(error as Error).message}`);
      }
    }
  }

  private lost(client = this.client): void {
    if (this.client !== client || !client) return;
    this.client = undefined;
    void client.end().catch(() => undefined);
    if (this.closed) return;
    this.log?.warn(`PostgreSQL LISTEN connection lost; opening it again in ${RECONNECT_MS} ms`);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.connect();
    }, RECONNECT_MS).unref();
  }
}

function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
