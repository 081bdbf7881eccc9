import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { KsiClient, type HealthResult } from '../../libs/client/src';
import { daemonNodeArgs } from '../daemon/launch';
import { CliError, EXIT } from './cli-error';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export type StopOutcome = { state: 'stopped'; pid: number; forced: boolean } | { state: 'not_running'; stalePid?: number };

/** Starts, stops and inspects the daemon of one var dir and socket, like a small process manager. */
export class DaemonControl {
  readonly varDir: string;
  readonly pidFile: string;
  readonly startupLog: string;
  readonly daemonLog: string;

  constructor(
    readonly socketPath: string,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {
    this.varDir = path.resolve(env.KSI_VAR_DIR || 'var');
    this.pidFile = path.join(this.varDir, 'run', 'ksi_daemon.pid');
    this.startupLog = path.join(this.varDir, 'logs', 'daemon', 'daemon_startup.log');
    this.daemonLog = path.join(this.varDir, 'logs', 'daemon', 'daemon.log');
  }

  /** The daemon's health, or undefined when nothing answers on the socket. */
  async health(timeoutMs = 2_000): Promise<HealthResult | undefined> {
    const client = new KsiClient({ socketPath: this.socketPath, timeoutMs });
    try {
      return await client.sendSingle('system:health');
    } catch {
      return undefined;
    } finally {
      await client.close();
    }
  }

  pidFromFile(): number | undefined {
    try {
      const pid = Number.parseInt(fs.readFileSync(this.pidFile, 'utf8'), 10);
      return Number.isInteger(pid) && pid > 0 ? pid : undefined;
    } catch {
      return undefined;
    }
  }

  /** Starts the daemon detached; resolves once it answers system:health. */
  async start(timeoutMs = 15_000): Promise<{ pid: number; alreadyRunning: boolean }> {
    const running = await this.health();
    if (running) return { pid: running.pid, alreadyRunning: true };
    this.removeStaleFiles();
    fs.mkdirSync(path.dirname(this.startupLog), { recursive: true });
    const log = fs.openSync(this.startupLog, 'w');
    const child = spawn(process.execPath, daemonNodeArgs(), {
      detached: true,
      stdio: ['ignore', log, log],
      env: { ...this.env, KSI_VAR_DIR: this.varDir, KSI_SOCKET_PATH: this.socketPath },
    });
    fs.closeSync(log);
    let exitCode: number | null = null;
    child.once('exit', (code) => (exitCode = code ?? 1));
    child.unref();
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (exitCode !== null) throw new CliError(EXIT.daemonError, `The daemon exited during start (status ${exitCode}):\n${this.tail(this.startupLog)}`);
      const health = await this.health(500);
      if (health?.pid === child.pid) return { pid: child.pid as number, alreadyRunning: false };
      await sleep(50);
    }
    throw new CliError(EXIT.daemonError, `The daemon did not answer within ${timeoutMs} ms; see ${this.startupLog}:\n${this.tail(this.startupLog)}`);
  }

  /** Graceful stop through the daemon's own shutdown path, then SIGTERM, then SIGKILL. */
  async stop(graceMs: number): Promise<StopOutcome> {
    const health = await this.health();
    const filePid = this.pidFromFile();
    const pid = health?.pid ?? filePid;
    if (pid === undefined || !alive(pid)) {
      this.removeStaleFiles();
      return { state: 'not_running', stalePid: filePid };
    }
    if (health) await this.requestShutdown();
    else process.kill(pid, 'SIGTERM');
    if (await exits(pid, graceMs)) return this.stopped(pid, false);
    process.kill(pid, 'SIGTERM');
    if (await exits(pid, 5_000)) return this.stopped(pid, false);
    process.kill(pid, 'SIGKILL');
    await exits(pid, 5_000);
    return this.stopped(pid, true);
  }

  private stopped(pid: number, forced: boolean): StopOutcome {
    this.removeStaleFiles();
    return { state: 'stopped', pid, forced };
  }

  private async requestShutdown(): Promise<void> {
    const client = new KsiClient({ socketPath: this.socketPath, timeoutMs: 5_000 });
    try {
      await client.sendEvent('system:shutdown');
    } catch {
      // The daemon may close the connection before its reply arrives; the wait below decides.
    } finally {
      await client.close();
    }
  }

  /** PID and socket files of a daemon that is no longer running. */
  private removeStaleFiles(): void {
    const pid = this.pidFromFile();
    if (pid !== undefined && !alive(pid)) fs.rmSync(this.pidFile, { force: true });
    if (pid === undefined || !alive(pid)) fs.rmSync(this.socketPath, { force: true });
  }

  private tail(file: string, lines = 20): string {
    try {
      return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no output)';
    }
  }
}

/** Whether a process runs; a zombie (dead, not yet reaped by its parent) does not count. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

async function exits(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!alive(pid)) return true;
    await sleep(50);
  }
  return !alive(pid);
}
