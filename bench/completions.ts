import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { onJsonLines } from './lines';

export const FAKE_CLAUDE = path.resolve(__dirname, '../../test/fixtures/fake-claude');

/**
 * Spawns the fake CLI `count` times with the daemon's arguments, `concurrency` at a time (one after
 * another by default), each answering after `sleepMs`: the baseline. Resolves with the ms it took.
 */
export async function spawnDirectly(count: number, stateDir: string, { concurrency = 1, sleepMs = 0 } = {}): Promise<number> {
  const started = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < count) await runFake(next++, stateDir, sleepMs);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return performance.now() - started;
}

function runFake(i: number, stateDir: string, sleepMs: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const argv = ['-p', '--output-format', 'stream-json', '--verbose', '--include-partial-messages', '--model=sonnet', `--session-id=${randomUUID()}`];
    const env = { ...process.env, FAKE_CLAUDE_STATE_DIR: stateDir, FAKE_CLAUDE_SLEEP_MS: String(sleepMs) };
    const child = spawn(FAKE_CLAUDE, argv, { detached: true, stdio: ['pipe', 'pipe', 'pipe'], env });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.stdin.end(`direct ${i}`);
    child.once('close', (code) => (code === 0 && JSON.parse(out.trim().split('\n').pop() ?? '').type === 'result' ? resolve() : reject(new Error(`fake exited ${code}`))));
  });
}

/** Queues `count` completions on one connection and waits for every result; returns ms and results seen. */
export function drainCompletions(socketPath: string, count: number, prefix: string): Promise<{ ms: number; results: number; errors: number }> {
  return new Promise((resolve, reject) => {
    const socket = net.createConnection(socketPath);
    const started = performance.now();
    let results = 0;
    let errors = 0;
    socket.once('connect', () => {
      let out = '';
      for (let i = 0; i < count; i++) out += `${JSON.stringify({ event: 'completion:async', data: { prompt: `${prefix} ${i}`, conversation_id: `${prefix}-${i}` } })}\n`;
      socket.write(out);
    });
    socket.on('error', reject);
    onJsonLines(socket, (line) => {
      if (line.event === 'completion:result') results++;
      if (line.event === 'completion:error' || line.code) errors++;
      if (results + errors === count) {
        socket.destroy();
        resolve({ ms: performance.now() - started, results, errors });
      }
    });
  });
}

/** Sends one request on a connection of its own and resolves with its reply line. */
export function requestOnce(socketPath: string, event: string, data: Record<string, unknown>): Promise<Record<string, any>> {
  return new Promise((resolve, reject) => {
    const socket = net.createConnection(socketPath);
    socket.once('connect', () => socket.write(`${JSON.stringify({ event, data })}\n`));
    socket.on('error', reject);
    onJsonLines(socket, (line) => {
      socket.destroy();
      if (line.code) reject(new Error(`${event}: ${line.error}`));
      else resolve(line);
    });
  });
}

/** CLI starts the fake recorded (it also records each answer, on lines of their own). */
export function countInvocations(file: string): number {
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim().split('\n').filter((line) => !line.includes('"answered":true')).length : 0;
}

/** Pipelines `count` completion:async requests and resolves once every one was accepted. */
export function queueMany(socketPath: string, count: number, data: (i: number) => Record<string, unknown>): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.createConnection(socketPath);
    let accepted = 0;
    socket.once('connect', () => {
      let out = '';
      for (let i = 0; i < count; i++) out += `${JSON.stringify({ event: 'completion:async', data: data(i) })}\n`;
      socket.write(out);
    });
    socket.on('error', reject);
    onJsonLines(socket, (line) => {
      if (line.code) return reject(new Error(line.error));
      if (line.event === 'completion:async') accepted++;
      if (accepted === count) {
        socket.destroy();
        resolve();
      }
    });
  });
}

/**
 * Milliseconds on the machine's monotonic clock (sub-millisecond), comparable between processes of
 * one machine as the fake CLI stamps them. Not `performance.timeOrigin + now()`: a process's origin is
 * fixed at its start, so after a step of the wall clock a long-running bench and a fresh fake differ.
 */
export const monotonicMs = (): number => Number(process.hrtime.bigint()) / 1e6;

/**
 * Runs `count` completions one after another and measures, for each, the time from the fake CLI
 * writing its first text line (stamped by the fake in FAKE_CLAUDE_TEXT_STAMPS) to this client
 * receiving the first `streaming` push.
 */
export async function streamingLatency(socketPath: string, count: number, stampsFile: string): Promise<number[]> {
  const received = new Map<string, number>();
  const socket = net.createConnection(socketPath);
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let settle: (() => void) | undefined;
  onJsonLines(socket, (line) => {
    if (line.event === 'completion:progress' && line.data?.status === 'streaming' && !received.has(line.data.request_id)) received.set(line.data.request_id, monotonicMs());
    if (line.event === 'completion:result' || line.event === 'completion:error') settle?.();
  });
  for (let i = 0; i < count; i++) {
    await new Promise<void>((resolve) => {
      settle = resolve;
      socket.write(`${JSON.stringify({ event: 'completion:async', data: { prompt: `stream ${i}` } })}\n`);
    });
  }
  socket.destroy();
  const stamps = fs.readFileSync(stampsFile, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { request_id: string; at: number });
  return stamps.filter((stamp) => received.has(stamp.request_id)).map((stamp) => (received.get(stamp.request_id) as number) - stamp.at);
}

/** Sends each request alone and times completion:async → completion:error; returns ms and attempts per request. */
export async function permanentFailures(socketPath: string, requests: Record<string, unknown>[]): Promise<{ ms: number; attempts: number; code: string }[]> {
  const socket = net.createConnection(socketPath);
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let settle: ((end: { attempts: number; code: string }) => void) | undefined;
  onJsonLines(socket, (line) => {
    if (line.event === 'completion:result') settle?.({ attempts: line.data.result?.ksi?.attempt ?? 0, code: 'completed' });
    if (line.event === 'completion:error') settle?.({ attempts: line.data.attempts, code: line.data.code });
  });
  const outcomes: { ms: number; attempts: number; code: string }[] = [];
  for (const data of requests) {
    const started = performance.now();
    const end = await new Promise<{ attempts: number; code: string }>((resolve) => {
      settle = resolve;
      socket.write(`${JSON.stringify({ event: 'completion:async', data })}\n`);
    });
    outcomes.push({ ms: performance.now() - started, ...end });
  }
  socket.destroy();
  return outcomes;
}
