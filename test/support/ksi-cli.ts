import { execFile, spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { FAKE_CLAUDE } from './daemon-process';

export const KSI_BIN = path.resolve(__dirname, '../../bin/ksi');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built `ksi` binary as its own process, the way a user does (daemons it starts run the fake Claude CLI). */
export function ksi(args: string[], env: Record<string, string> = {}, cwd?: string): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [KSI_BIN, ...args], { env: { ...process.env, NO_COLOR: '1', CLAUDE_BIN: FAKE_CLAUDE, ...env }, cwd, timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** A `ksi` process left running (monitor, logs -f, complete --wait), its output gathered as it comes. */
export function background(args: string[], env: Record<string, string> = {}): { child: ChildProcess; stdout: () => string; stderr: () => string; exit: Promise<number | null> } {
  const child = spawn(process.execPath, [KSI_BIN, ...args], { env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk) => (stdout += chunk));
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  // On close, not exit: all of its output has been read by then.
  const exit = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return { child, stdout: () => stdout, stderr: () => stderr, exit };
}
