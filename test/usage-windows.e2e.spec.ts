import type { KsiClient } from '../libs/client/src';
import { CompletionWatcher, fakeClaudeDaemon } from './support/completions';
import { eventually } from './support/daemon-process';

/** A usage limit the fake reports for this prompt, resetting `seconds` ahead (whole epoch seconds, as the real CLI says). */
const limited = (seconds: number) => `[[rate_limit:${seconds}]] the limit`;

/** A daemon on the fake CLI for a describe block, with a client whose completion pushes are watched. */
function useFakeClaude(env: Record<string, string>) {
  const daemon = fakeClaudeDaemon({ env });
  let client: KsiClient;
  let completions: CompletionWatcher;
  beforeAll(async () => {
    await daemon.start();
    client = daemon.client();
    completions = new CompletionWatcher(client);
  });
  afterAll(async () => {
    await client?.close();
    await daemon.dispose();
  });
  return {
    daemon,
    send: (event: string, data: Record<string, unknown> = {}) => client.sendSingle(event, data) as Promise<Record<string, any>>,
    /** The completion pushes of the first connection. */
    watcher: { of: (id: string) => completions.of(id), end: (id: string, timeoutMs?: number) => completions.end(id, timeoutMs) },
    /** A new connection after a restart (pushes of requests sent before it are not followed). */
    reconnect: async () => {
      await client.close();
      client = daemon.client();
    },
  };
}

describe('usage windows: a usage limit parks the account’s queued requests until its reset', () => {
  describe('requests queued when the limit is hit', () => {
    const { daemon, send, watcher } = useFakeClaude({ KSI_MAX_CONCURRENT: '1', KSI_RESUME_STAGGER_MS: '100' });

    it('parks five queued requests, starts none before the reset and all after it, in priority order, counting no attempt for the wait', async () => {
      // One process at a time: the five wait behind the limited one, then behind the window.
      const { request_id: hit } = await send('completion:async', { prompt: limited(3), model: 'sonnet', priority: 'high', max_attempts: 1 });
      const priorities = ['low', 'normal', 'high', 'normal', 'low'];
      const parked: string[] = [];
      for (const [n, priority] of priorities.entries()) {
        parked.push((await send('completion:async', { prompt: `parked ${n}`, model: 'sonnet', priority, conversation_id: `c${n}` })).request_id);
      }

      expect((await watcher.end(hit)).data).toMatchObject({ code: 'rate_limited', attempts: 1 });
      // Another login's requests are not parked: its usage limits are its own.
      const { request_id: elsewhere } = await send('completion:async', { prompt: 'another account', model: 'sonnet', claude_config_dir: '/tmp/ksi-other-account' });
      const [window] = (await send('completion:queue_status')).usage_windows;
      expect(window).toMatchObject({ account: 'claude-cli', request_id: hit, reason: expect.stringContaining('usage limit reached'), parked: 5 });
      expect((await send('system:health')).usage_windows).toEqual([{ account: 'claude-cli', paused_until: window.paused_until, reason: window.reason, request_id: hit }]);
      for (const id of parked) {
        await eventually(() => watcher.of(id).some((line) => line.data.status === 'parked'), 10_000, `the parked push of ${id}`);
        expect(watcher.of(id).find((line) => line.data.status === 'parked')?.data).toMatchObject({ attempt: 0, paused_until: window.paused_until, account: 'claude-cli' });
      }

      expect((await watcher.end(elsewhere)).event).toBe('completion:result');
      const other = daemon.invocations().find((run) => run.stdin === 'another account')!;
      expect(other.env.CLAUDE_CONFIG_DIR).toBe('/tmp/ksi-other-account');
      expect(other.time).toBeLessThan(window.paused_until * 1000);
      for (const id of parked) expect((await watcher.end(id, 30_000)).event).toBe('completion:result');
      const runs = daemon.invocations().filter((run) => run.stdin.startsWith('parked'));
      expect(runs.map((run) => run.stdin)).toEqual(['parked 2', 'parked 1', 'parked 3', 'parked 0', 'parked 4']);
      for (const run of runs) expect(run.time).toBeGreaterThanOrEqual(window.paused_until * 1000);
      for (const id of parked) expect(await send('completion:status', { request_id: id })).toMatchObject({ status: 'completed', attempts: 1 });
      expect((await send('completion:queue_status')).usage_windows).toEqual([]);
    });
  });

  describe('requests that arrive during a window', () => {
    const STAGGER_MS = 1_000;
    const { daemon, send, watcher, reconnect } = useFakeClaude({ KSI_MAX_CONCURRENT: '6', KSI_RESUME_STAGGER_MS: String(STAGGER_MS) });

    it('are parked on arrival, kept across a restart, and start after the reset one at a time, KSI_RESUME_STAGGER_MS apart', async () => {
      // Ten seconds: the window must outlast four arrivals and a restart on a loaded machine (a full run once took more than four).
      const { request_id: hit } = await send('completion:async', { prompt: limited(10), model: 'sonnet', max_attempts: 1 });
      await watcher.end(hit);
      const arrivals: string[] = [];
      for (const n of [0, 1, 2, 3]) arrivals.push((await send('completion:async', { prompt: `late ${n}`, model: 'sonnet', conversation_id: `late${n}` })).request_id);
      for (const id of arrivals) await eventually(() => watcher.of(id).some((line) => line.data.status === 'parked'), 10_000, `the parked push of ${id}`);
      const [window] = (await send('completion:queue_status')).usage_windows;

      await daemon.stop();
      await daemon.start();
      await reconnect();
      expect((await send('completion:queue_status')).usage_windows).toEqual([{ ...window, parked: 4 }]);

      // Each attempt's start, as the daemon logged it (monitor), from the daemon's own clock.
      const starts = (await eventually(async () => {
        const { events } = await send('monitor:get_events', { patterns: ['completion:progress'], limit: 100 });
        const calling = (events as { data: Record<string, any>; timestamp: number }[]).filter((event) => event.data.status === 'calling_llm' && arrivals.includes(event.data.request_id));
        return calling.length === 4 ? calling.sort((a, b) => a.timestamp - b.timestamp) : undefined;
      }, 30_000, 'the four arrivals started'))!;
      expect(starts[0].timestamp).toBeGreaterThanOrEqual(window.paused_until);
      // The stagger gates the decision to start; the event comes after the CLI was spawned, which on a
      // loaded machine took 100 ms longer for one start than the next (a gap of 392 ms for 500). Without
      // a stagger the four start within milliseconds of each other.
      for (let i = 1; i < starts.length; i++) expect(starts[i].timestamp - starts[i - 1].timestamp).toBeGreaterThanOrEqual((STAGGER_MS * 0.6) / 1000);
      expect(starts.map((start) => start.data.attempt)).toEqual([1, 1, 1, 1]);
    }, 60_000);
  });
});
