import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { daemonNodeArgs } from '../../apps/daemon/launch';
import { CONTRACT_VIOLATION } from '../../src/events/contract-check';
import { killCliProcessesOf } from '../../src/modules/completion/cli-processes';
import { KsiClient } from '../../libs/client/src';
import { databaseEnv, dropDatabase } from './test-database';

const ROOT = path.resolve(__dirname, '../..');
export const DAEMON_MAIN = path.join(ROOT, 'bin/ksi-daemon');
/** The stand-in for the Claude CLI (test/fixtures/fake-claude); every test daemon runs it unless told otherwise. */
export const FAKE_CLAUDE = path.join(ROOT, 'test/fixtures/fake-claude');

export interface DaemonOptions {
  env?: Record<string, string>;
  /** Reuse a var dir (for restarts); a fresh temporary one otherwise. */
  varDir?: string;
}

/** The built daemon as a real child process on a temporary var dir and socket. */
export class DaemonProcess {
  readonly varDir: string;
  readonly socketPath: string;
  readonly env: Record<string, string>;
  private child?: ChildProcess;
  private exited?: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output = '';
  /** Whether the test stopped it, or waits for it to stop (else an exit is a death worth reporting). */
  private stopRequested = false;
  /** It answered once: a start that fails is the test's expectation, not a death. */
  private ready = false;
  /** Contract violations reported by earlier runs of this daemon (output starts afresh at each start). */
  private readonly violations: string[] = [];

  constructor(options: DaemonOptions = {}) {
    this.varDir = options.varDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'ksi-test-'));
    this.socketPath = path.join(this.varDir, 'run', 'daemon.sock');
    this.env = { KSI_VAR_DIR: this.varDir, KSI_LOG_LEVEL: 'warn', CLAUDE_BIN: FAKE_CLAUDE, ...options.env };
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Spawns the daemon and resolves once it answers system:health. */
  async start(): Promise<this> {
    this.stopRequested = false;
    this.ready = false;
    Object.assign(this.env, { ...(await databaseEnv(this.varDir)), ...this.env });
    this.violations.push(...contractViolations(this.output));
    this.output = '';
    const child = spawn(process.execPath, daemonNodeArgs(DAEMON_MAIN), { env: { ...process.env, ...this.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    child.stdout?.on('data', (chunk) => (this.output += chunk));
    child.stderr?.on('data', (chunk) => (this.output += chunk));
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    // Generous: a start under a loaded CI machine takes seconds, and a cluster node may first wait two
    // TTLs for a paused node alone to yield; a start that hangs still fails here.
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if (child.exitCode !== null) throw new Error(`daemon exited with ${child.exitCode}: ${this.output}`);
      if (await this.answers()) {
        this.ready = true;
        return this;
      }
      await sleep(50);
    }
    throw new Error(`daemon did not become ready: ${this.output}`);
  }

  /** Sends a signal and waits for the process to exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (!this.child || !this.exited) throw new Error('daemon not started');
    this.stopRequested = true;
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }

  waitForExit(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (!this.exited) throw new Error('daemon not started');
    this.stopRequested = true;
    return this.exited;
  }

  /** What the daemon wrote to its log file so far (JSON lines); empty before it wrote any. */
  readLog(): string {
    const file = path.join(this.varDir, 'logs', 'daemon', 'daemon.log');
    return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
  }

  client(timeoutMs = 10_000): KsiClient {
    return new KsiClient({ socketPath: this.socketPath, timeoutMs });
  }

  /** Stops the daemon (if running) and removes the var dir; fails when the daemon reported a contract violation (KSI_CHECK_RESULTS). */
  async dispose(): Promise<void> {
    // A daemon that exited by itself leaves nothing else behind to say why: its output and log go to the test's log.
    if (this.child && this.ready && !this.stopRequested && (this.child.exitCode !== null || this.child.signalCode !== null)) {
      const log = this.readLog().slice(-8_000) || '(no log file)';
      console.error(`The daemon (pid ${this.child.pid}) exited on its own (code ${this.child.exitCode}, signal ${this.child.signalCode}). Its last output:\n${this.output.slice(-8_000)}\nIts log:\n${log}`);
    }
    if (this.child && this.child.exitCode === null && this.child.signalCode === null) await this.stop('SIGKILL');
    // The Claude CLIs a killed daemon started outlive it and write into its var dir when they end.
    if (fs.existsSync('/proc')) killCliProcessesOf(this.varDir);
    // Retried: a CLI may have been writing its log into the var dir as it was killed.
    fs.rmSync(this.varDir, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
    await dropDatabase(this.varDir);
    const violations = [...this.violations, ...contractViolations(this.output)];
    if (violations.length > 0) throw new Error(`The daemon sent what its event definitions do not describe:\n${violations.join('\n')}`);
  }

  private async answers(): Promise<boolean> {
    const client = this.client(2_000);
    try {
      const health = (await client.sendSingle('system:health')) as { pid: number };
      return health.pid === this.child?.pid;
    } catch {
      return false;
    } finally {
      await client.close();
    }
  }
}

const contractViolations = (output: string): string[] => output.split('\n').filter((line) => line.startsWith(CONTRACT_VIOLATION));

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type Truthy<T> = Exclude<T, false | null | undefined | 0 | ''>;

/**
 * Polls until `check` returns a truthy value, or fails after `timeoutMs` with a message saying what was
 * awaited (`what`, else the check's own source) and the last value or error it saw.
 */
export async function eventually<T>(check: () => T | Promise<T>, timeoutMs = 10_000, what?: string): Promise<Truthy<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as Truthy<T>;
      last = value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) break;
    await sleep(50);
  }
  const awaited = what ?? check.toString().replace(/\s+/g, ' ');
  throw new Error(`Waited ${timeoutMs} ms for: ${awaited}; last saw: ${last instanceof Error ? last.message : JSON.stringify(last)}`);
}

/** One daemon for a describe block, with a client connected to it; both are gone after the block. */
export function useDaemon(options: DaemonOptions = {}): { daemon: DaemonProcess; client: () => KsiClient } {
  const daemon = new DaemonProcess(options);
  let client: KsiClient | undefined;
  beforeAll(async () => {
    await daemon.start();
    client = daemon.client();
  });
  afterAll(async () => {
    await client?.close();
    await daemon.dispose();
  });
  return {
    daemon,
    client: () => {
      if (!client) throw new Error('the daemon has not started');
      return client;
    },
  };
}
