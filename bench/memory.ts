import * as fs from 'node:fs';
import * as net from 'node:net';
import { onJsonLines } from './lines';

/** Just under the default line limit (1 MiB) once the request's envelope is added. */
export const LARGE_VALUE_CHARS = 1024 * 1024 - 200;

export interface MemoryResult {
  acknowledged: number;
  failed: number;
  /** Acknowledged keys read back with the value that was written. */
  readable: number;
  peakRssMb: number;
  alive: boolean;
}

/**
 * `writes` state:set of distinct keys with ~1 MiB values over `connections` sockets, each keeping
 * `window` requests in flight, sampling the server's RSS (/proc/PID/status) as it goes; then reads
 * every acknowledged key back.
 */
export async function largeWrites(socketPath: string, pid: number, options: { writes: number; connections?: number; window?: number; readBack?: boolean }): Promise<MemoryResult> {
  const { writes, connections = 4, window = 4, readBack = true } = options;
  let peakRssMb = rssMb(pid);
  const sampler = setInterval(() => (peakRssMb = Math.max(peakRssMb, rssMb(pid))), 20);
  const value = 'x'.repeat(LARGE_VALUE_CHARS);
  const acknowledged: string[] = [];
  let failed = 0;
  let next = 0;
  try {
    await Promise.all(
      Array.from({ length: connections }, () =>
        pipeline(socketPath, window, () => (next < writes ? `mem-${next++}` : undefined), (key) => ({ event: 'state:set', data: { key, value } }), (key, reply) => {
          if (reply.data?.status === 'set') acknowledged.push(key);
          else failed++;
        }),
      ),
    );
    let readable = 0;
    if (readBack) {
      let index = 0;
      await pipeline(socketPath, window, () => acknowledged[index++], (key) => ({ event: 'state:get', data: { key } }), (_key, reply) => {
        if (reply.data?.value === value) readable++;
      });
    }
    return { acknowledged: acknowledged.length, failed, readable, peakRssMb: Math.max(peakRssMb, rssMb(pid)), alive: isAlive(pid) };
  } finally {
    clearInterval(sampler);
  }
}

/** Sends one request per key from `nextKey` with at most `window` unanswered, until keys run out. */
function pipeline(
  socketPath: string,
  window: number,
  nextKey: () => string | undefined,
  request: (key: string) => unknown,
  onReply: (key: string, reply: Record<string, any>) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.createConnection(socketPath);
    const inFlight: string[] = [];
    let exhausted = false;
    const fill = () => {
      while (!exhausted && inFlight.length < window) {
        const key = nextKey();
        if (key === undefined) exhausted = true;
        else {
          inFlight.push(key);
          socket.write(`${JSON.stringify(request(key))}\n`);
        }
      }
      if (exhausted && inFlight.length === 0) {
        socket.end();
        resolve();
      }
    };
    socket.once('connect', fill);
    socket.once('error', reject);
    socket.once('close', () => (inFlight.length > 0 ? reject(new Error(`connection closed with ${inFlight.length} requests unanswered`)) : resolve()));
    onJsonLines(socket, (reply) => {
      if (reply.push) return;
      onReply(inFlight.shift()!, reply);
      fill();
    });
  });
}

export function rssMb(pid: number): number {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
