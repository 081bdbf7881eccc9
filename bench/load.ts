import * as net from 'node:net';

export interface LoadResult {
  ops: number;
  seconds: number;
  opsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
}

export type RequestFactory = (connection: number, index: number) => { event: string; data: Record<string, unknown> };

/**
 * Drives a server with `connections` sockets, each keeping `window` requests in flight, until
 * `total` replies arrived. window 1 = request/reply; window 64 = pipelining.
 */
export async function drive(socketPath: string, options: { connections: number; window: number; total: number; request: RequestFactory }): Promise<LoadResult> {
  const perConnection = Math.ceil(options.total / options.connections);
  const latencies: number[] = [];
  const started = process.hrtime.bigint();
  await Promise.all(Array.from({ length: options.connections }, (_, c) => runConnection(socketPath, c, perConnection, options.window, options.request, latencies)));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  latencies.sort((a, b) => a - b);
  const ops = perConnection * options.connections;
  return {
    ops,
    seconds,
    opsPerSecond: ops / seconds,
    p50Ms: latencies[Math.floor(latencies.length * 0.5)],
    p99Ms: latencies[Math.floor(latencies.length * 0.99)],
  };
}

function runConnection(socketPath: string, connection: number, count: number, window: number, request: RequestFactory, latencies: number[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.createConnection(socketPath);
    const sentAt: bigint[] = new Array(count);
    let sent = 0;
    let received = 0;
    let pending = '';
    const send = (n: number) => {
      let out = '';
      const now = process.hrtime.bigint();
      for (let i = 0; i < n && sent < count; i++, sent++) {
        sentAt[sent] = now;
        const { event, data } = request(connection, sent);
        out += `${JSON.stringify({ event, data, correlation_id: sent })}\n`;
      }
      if (out) socket.write(out);
    };
    socket.setEncoding('utf8');
    socket.once('connect', () => send(window));
    socket.on('error', reject);
    socket.on('data', (chunk: string) => {
      pending += chunk;
      const now = process.hrtime.bigint();
      let start = 0;
      let newline: number;
      let replies = 0;
      while ((newline = pending.indexOf('\n', start)) !== -1) {
        const reply = JSON.parse(pending.slice(start, newline));
        start = newline + 1;
        if (reply.push) continue;
        if (reply.error) return reject(new Error(`${reply.code}: ${reply.error}`));
        latencies.push(Number(now - sentAt[reply.correlation_id]) / 1e6);
        replies++;
      }
      pending = pending.slice(start);
      received += replies;
      if (received >= count) {
        socket.end();
        resolve();
      } else send(replies);
    });
  });
}
