import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { KsiClient, type KsiErrorReply, type KsiReply } from '../../../libs/client/src';

/** Open event streams at once; more browser tabs than this get 503. */
const MAX_STREAMS = 32;
/** Unsent stream bytes a slow page may hold back; past it its stream ends, and the page reconnects and reloads. */
const MAX_UNSENT_BYTES = 1024 * 1024;
/** Proxies and browsers drop a silent stream; a comment line keeps it open. */
const KEEPALIVE_MS = 20_000;

/** What the correlation ids of a dashboard's reads look like (`dashboard-<id>-reads-<n>`); the page leaves them out of its event list too. */
export const READS_MARK = '-reads-';

/**
 * The dashboard speaks to the daemon as any client does, over its own socket: the same events,
 * validation, limits and event log as `ksi send`, with nothing to keep in step. The page's reads
 * (its panels reloading) carry correlation ids its event streams leave out, so that it does not see,
 * and reload on, its own reads; its actions (a decision) are streamed like anyone's.
 */
export class DashboardGateway {
  private readonly prefix = `dashboard-${randomBytes(3).toString('hex')}`;
  private readonly reads: KsiClient;
  private readonly actions: KsiClient;
  private readonly streams = new Set<{ end: () => Promise<void> }>();
  private streamSequence = 0;

  constructor(private readonly socketPath: string) {
    this.reads = new KsiClient({ socketPath, correlationPrefix: `${this.prefix}${READS_MARK.slice(0, -1)}` });
    this.actions = new KsiClient({ socketPath, correlationPrefix: this.prefix });
  }

  /** `read`: the page reloading a panel, left out of event streams. */
  request(event: string, data: Record<string, unknown>, read: boolean): Promise<KsiReply | KsiErrorReply> {
    return (read ? this.reads : this.actions).request(event, data);
  }

  /** Streams every event of the daemon to the page as server-sent events, from now on. */
  async stream(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (this.streams.size >= MAX_STREAMS) {
      response.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ error: `At most ${MAX_STREAMS} dashboard pages can be open at once`, code: 'too_many_streams' }));
      return;
    }
    const client = new KsiClient({ socketPath: this.socketPath, timeoutMs: 10_000, correlationPrefix: `${this.prefix}-s${++this.streamSequence}` });
    const open = () => !response.writableEnded && !response.destroyed;
    const send = (text: string) => {
      if (open()) response.write(text);
    };
    const keepalive = setInterval(() => send(': keepalive\n\n'), KEEPALIVE_MS).unref();
    // Ending stops everything that writes first: pushes still arriving while the client closes are dropped.
    const end = () => {
      clearInterval(keepalive);
      unsubscribe();
      this.streams.delete(entry);
      if (open()) response.end();
      return client.close();
    };
    const entry = { end };
    this.streams.add(entry);
    // A page gone mid-write (reset connection) must not reach the daemon as an unhandled error.
    response.on('error', () => void end());
    request.on('close', () => void end());
    client.onClose(() => void end());
    const unsubscribe = client.subscribe('monitor:event', ({ data }) => {
      const correlationId = (data as { correlation_id?: unknown }).correlation_id;
      if (typeof correlationId === 'string' && correlationId.startsWith(`${this.prefix}${READS_MARK}`)) return;
      if (response.writableLength > MAX_UNSENT_BYTES) return void end();
      send(`data: ${JSON.stringify(data)}\n\n`);
    });
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' }).flushHeaders();
    try {
      await client.sendSingle('monitor:subscribe', { patterns: ['**'] });
    } catch {
      // The daemon is going away; the page's EventSource tries again by itself.
      return end();
    }
    // The page reloads its panels on `ready`: what changed before the stream began is in them.
    send('event: ready\ndata: {}\n\n');
  }

  async close(): Promise<void> {
    await Promise.all([...[...this.streams].map((stream) => stream.end()), this.reads.close(), this.actions.close()]);
  }
}
