import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { KsiClient, type HealthResult } from '../../libs/client/src';
import { daemonVariables, type DaemonSettings } from '../../src/lifecycle/daemon-settings';
import { lockHolder, varDirLockPath } from '../../src/lifecycle/lock-holder';
import { daemonNodeArgs } from '../daemon/launch';
import { CliError, EXIT } from './cli-error';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export type StopOutcome =
  | { state: 'stopped'; pid: number; forced: boolean }
  /** `otherProcess`: the command line of the live process a stale PID file named (never signalled). */
  | { state: 'not_running'; stalePid?: number; otherProcess?: string };

/** Starts, stops and inspects the daemon of one var dir and socket, like a small process manager. */
export class DaemonControl {
  readonly varDir: string;
  readonly pidFile: string;
  readonly lockFile: string;
  readonly startupLog: string;
  readonly daemonLog: string;

  constructor(
    readonly socketPath: string,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {
    this.varDir = path.resolve(env.KSI_VAR_DIR || 'var');
    this.pidFile = path.join(this.varDir, 'run', 'ksi_daemon.pid');
    this.lockFile = varDirLockPath(this.varDir);
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

  /** The PID of the process holding this var dir's lock: the daemon, whether it answers or not. */
  lockHolder(): number | undefined {
    return lockHolder(this.lockFile);
  }

  /** The environment `start` gives the daemon: this shell's, with the var dir and socket made absolute. */
  launchEnv(): NodeJS.ProcessEnv {
    return { ...this.env, KSI_VAR_DIR: this.varDir, KSI_SOCKET_PATH: this.socketPath };
  }

  /**
   * Starts the daemon detached; resolves once it answers system:health. With `settings` (what a
   * previous daemon was started with) it gets those variables and working directory instead of this shell's.
   */
  async start(timeoutMs?: number, settings?: DaemonSettings): Promise<{ pid: number; alreadyRunning: boolean }> {
    timeoutMs ??= this.startTimeoutMs(settings);
    const running = await this.health();
    if (running) return { pid: running.pid, alreadyRunning: true };
    this.removeStaleFiles();
    fs.mkdirSync(path.dirname(this.startupLog), { recursive: true, mode: 0o700 });
    const log = fs.openSync(this.startupLog, 'w', 0o600);
    const env = this.launchEnv();
    if (settings) for (const name of Object.keys(daemonVariables(env))) delete env[name];
    const child = spawn(process.execPath, daemonNodeArgs(), {
      detached: true,
      stdio: ['ignore', log, log],
      cwd: settings && fs.existsSync(settings.cwd) ? settings.cwd : undefined,
      env: { ...env, ...settings?.env, KSI_VAR_DIR: this.varDir, KSI_SOCKET_PATH: this.socketPath },
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

  /**
   * 15 s; on PostgreSQL, also two lease TTLs more: a node starting under the id of one whose host
   * died waits that long for the dead one's hold on the id to be ended (see PostgresNodeClaim).
   */
  private startTimeoutMs(settings?: DaemonSettings): number {
    const env = { ...this.env, ...settings?.env };
    if (!env.KSI_DATABASE_URL) return 15_000;
    const ttl = Number(env.KSI_LEASE_TTL_MS);
    return 15_000 + 2 * (Number.isFinite(ttl) && ttl > 0 ? ttl : 15_000);
  }

  /**
   * Graceful stop through the daemon's own shutdown path, then SIGTERM, then SIGKILL. Only a process
   * that is verifiably this daemon is signalled (see isDaemon); a PID file alone names nothing: it
   * may be stale, and its PID reused by an unrelated process.
   */
  async stop(graceMs: number): Promise<StopOutcome> {
    const health = await this.health();
    const pid = health?.pid ?? this.lockHolder();
    if (pid === undefined) {
      const stalePid = this.pidFromFile();
      const otherProcess = stalePid !== undefined && alive(stalePid) ? commandLine(stalePid) : undefined;
      this.removeStaleFiles();
      return { state: 'not_running', stalePid, otherProcess };
    }
    if (health) await this.requestShutdown();
    else process.kill(pid, 'SIGTERM');
    if (await exits(pid, graceMs)) return this.stopped(pid, false);
    for (const [signal, waitMs] of [['SIGTERM', 5_000], ['SIGKILL', 5_000]] as const) {
      if (!(await this.isDaemon(pid))) break;
      process.kill(pid, signal);
      if (await exits(pid, waitMs)) return this.stopped(pid, signal === 'SIGKILL');
    }
    throw new CliError(EXIT.daemonError, `PID ${pid} did not exit and is no longer verifiably the KSI daemon of ${this.varDir}; it was not signalled again.`);
  }

  /** The process answers on the socket as the daemon, or holds this var dir's lock. */
  private async isDaemon(pid: number): Promise<boolean> {
    return this.lockHolder() === pid || (await this.health(500))?.pid === pid;
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

  /** PID and socket files of a daemon that is no longer running; a file at the socket path that is not a socket stays. */
  private removeStaleFiles(): void {
    if (this.lockHolder() !== undefined) return;
    fs.rmSync(this.pidFile, { force: true });
    try {
      if (fs.lstatSync(this.socketPath).isSocket()) fs.rmSync(this.socketPath);
    } catch {
      // Nothing there.
    }
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

/** What a process runs, for messages: its command line, shortened. */
export function commandLine(pid: number): string {
  try {
    const words = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
    return words.length > 80 ? `${words.slice(0, 79)}…` : words || '(unknown)';
  } catch {
    return '(unknown)';
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
