import * as net from 'node:net';

/**
 * A bare socket speaking NDJSON by hand, for tests that send malformed or pipelined lines and read
 * every line that comes back (replies and pushes) in order.
 */
export class RawConnection {
  private buffer = '';
  private readonly lines: string[] = [];
  private waiters: (() => void)[] = [];
  closed = false;

  private constructor(readonly socket: net.Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.buffer += chunk;
      let newline: number;
      while ((newline = this.buffer.indexOf('\n')) !== -1) {
        this.lines.push(this.buffer.slice(0, newline));
        this.buffer = this.buffer.slice(newline + 1);
      }
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => undefined);
  }

  /** A connection identified as the agent with `token`; fails the test when the daemon refuses it. */
  static async identified(socketPath: string, agentId: string, token: string): Promise<RawConnection> {
    const connection = await RawConnection.open(socketPath);
    const reply = await connection.request({ event: 'system:identify', data: { agent_id: agentId, token } });
    if (reply.data?.identified !== true) throw new Error(`system:identify as ${agentId} was refused: ${JSON.stringify(reply)}`);
    return connection;
  }

  static open(socketPath: string): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const socket = net.createConnection(socketPath);
      socket.once('connect', () => resolve(new RawConnection(socket)));
      socket.once('error', reject);
    });
  }

  write(text: string): void {
    this.socket.write(text);
  }

  send(request: unknown): void {
    this.write(`${JSON.stringify(request)}\n`);
  }

  /** The next `count` lines, parsed. */
  async read(count = 1, timeoutMs = 10_000): Promise<Record<string, any>[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.lines.length < count) {
      if (this.closed) throw new Error(`connection closed after ${this.lines.length} of ${count} lines`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out with ${this.lines.length} of ${count} lines`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return this.lines.splice(0, count).map((line) => JSON.parse(line));
  }

  async request(request: unknown): Promise<Record<string, any>> {
    this.send(request);
    const [reply] = await this.read(1);
    return reply;
  }

  /** Resolves when the daemon closes the connection. */
  async whenClosed(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error('connection still open');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 50);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  close(): void {
    this.socket.destroy();
  }

  private wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }
}
