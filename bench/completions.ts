import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { onJsonLines } from './lines';

export const FAKE_CLAUDE = path.resolve(__dirname, '../../test/fixtures/fake-claude');

/** Spawns the fake CLI `count` times one after another, as the daemon would: the baseline. */
export async function spawnDirectly(count: number): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    await new Promise<void>((resolve, reject) => {
      const child = spawn(FAKE_CLAUDE, ['-p', '--output-format', 'json', '--model', 'sonnet'], { detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (chunk) => (out += chunk));
      child.stdin.end(`direct ${i}`);
      child.once('close', (code) => (code === 0 && JSON.parse(out).session_id ? resolve() : reject(new Error(`fake exited ${code}`))));
    });
  }
  return performance.now() - started;
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
      for (let i = 0; i < count; i++) out += `${JSON.stringify({ event: 'completion:async', data: { prompt: `${prefix} ${i}`, session_id: `${prefix}-${i}` } })}\n`;
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
