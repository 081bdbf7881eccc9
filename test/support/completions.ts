import * as fs from 'node:fs';
import * as path from 'node:path';
import type { KsiClient, KsiPush } from '../../libs/client/src';
import { DaemonProcess, FAKE_CLAUDE, type DaemonOptions } from './daemon-process';

export { FAKE_CLAUDE };

export interface Invocation {
  argv: string[];
  cwd: string;
  stdin: string;
  pid: number;
  time: number;
  env: { KSI_AGENT_ID?: string; KSI_REQUEST_ID?: string; CLAUDE_CONFIG_DIR?: string; KSI_DATABASE_URL?: string; KSI_APPROVAL_WEBHOOK_SECRET?: string };
  /** True on the line the fake writes when it printed a result. */
  answered?: boolean;
}

/** Every value KSI gave a CLI option (it passes them joined, `--name=value`), in order. */
export function optionValues(argv: string[], name: string): string[] {
  return argv.filter((arg) => arg.startsWith(`${name}=`)).map((arg) => arg.slice(name.length + 1));
}

/** A daemon whose Claude CLI is the fake, logging every invocation into its var dir. */
export function fakeClaudeDaemon(options: DaemonOptions = {}): DaemonProcess & { invocations(): Invocation[]; answered(): Invocation[] } {
  const daemon = new DaemonProcess(options);
  const log = path.join(daemon.varDir, 'fake-claude.jsonl');
  Object.assign(daemon.env, {
    CLAUDE_BIN: FAKE_CLAUDE,
    FAKE_CLAUDE_LOG: log,
    FAKE_CLAUDE_STATE_DIR: path.join(daemon.varDir, 'fake-claude-state'),
    ...options.env,
  });
  const lines = (): Invocation[] =>
    fs.existsSync(log)
      ? fs
          .readFileSync(log, 'utf8')
          .trim()
          .split('\n')
          .map((line) => JSON.parse(line))
      : [];
  return Object.assign(daemon, {
    /** Every start of the fake CLI. */
    invocations: () => lines().filter((entry) => !entry.answered),
    /** Every result the fake CLI printed. */
    answered: () => lines().filter((entry) => entry.answered),
  });
}

/** Every completion push a client receives, and a way to wait for a request's last one. */
export class CompletionWatcher {
  readonly lines: KsiPush<Record<string, any>>[] = [];
  private waiters: (() => void)[] = [];

  constructor(client: KsiClient) {
    client.subscribe('completion:*', (line) => {
      this.lines.push(line as KsiPush<Record<string, any>>);
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  of(requestId: string): KsiPush<Record<string, any>>[] {
    return this.lines.filter((line) => line.data.request_id === requestId);
  }

  /** Resolves with the request's result, error or cancelled line. */
  async end(requestId: string, timeoutMs = 20_000): Promise<KsiPush<Record<string, any>>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const final = this.of(requestId).find((line) => line.event !== 'completion:progress');
      if (final) return final;
      if (Date.now() > deadline) throw new Error(`no final event for ${requestId}; saw ${JSON.stringify(this.of(requestId))}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 200);
      });
    }
  }
}

/**
 * One fake-Claude daemon for a describe block, with a connected client and a `send` shorthand; both
 * are gone after the block. `reconnect` opens a new client after the test restarted the daemon.
 */
export function useFakeClaudeDaemon(options: DaemonOptions = {}) {
  const daemon = fakeClaudeDaemon(options);
  let client: KsiClient | undefined;
  beforeAll(async () => {
    await daemon.start();
    client = daemon.client();
  });
  afterAll(async () => {
    await client?.close();
    await daemon.dispose();
  });
  const current = (): KsiClient => {
    if (!client) throw new Error('the daemon has not started');
    return client;
  };
  return {
    daemon,
    client: current,
    send: (event: string, data: Record<string, unknown> = {}) => current().sendSingle(event, data) as Promise<Record<string, any>>,
    reconnect: async () => {
      await client?.close();
      client = daemon.client();
    },
  };
}
