import * as path from 'node:path';
import type { KsiClient } from '../libs/client/src';
import { onDaemonDatabase } from './support/daemon-database';
import { DaemonProcess, eventually } from './support/daemon-process';
import { fakeClaudeDaemon } from './support/completions';
import { RawConnection } from './support/raw-connection';
import { alive } from './support/processes';

const RUNNING = 4;
const QUEUED = 50;
const prompt = (i: number) => `job ${i}`;
/**
 * The interrupted daemon's CLIs outlast the test (so a stop catches RUNNING running with the rest
 * queued, and none can finish on its own while no daemon runs); the restarted daemon's answer at once.
 */
const INTERRUPTED_CLI_MS = '60000';

async function queueJobs(client: KsiClient): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < RUNNING + QUEUED; i++) {
    ids.push(((await client.sendSingle('completion:async', { prompt: prompt(i), conversation_id: `job-${i}` })) as { request_id: string }).request_id);
  }
  return ids;
}

async function allCompleted(daemon: DaemonProcess, count: number): Promise<Record<string, any> | undefined> {
  const client = daemon.client();
  try {
    return await eventually(async () => {
      const summary = (await client.sendSingle('completion:status', {})) as Record<string, any>;
      return summary.status_counts.completed === count ? summary : undefined;
    }, 30_000);
  } finally {
    await client.close();
  }
}

describe('resilience: stops, crashes and restarts lose nothing', () => {
  const daemons: DaemonProcess[] = [];
  afterAll(async () => {
    for (const daemon of daemons) await daemon.dispose();
  });
  const fresh = (varDir?: string, cliSleepMs = '0') => {
    const daemon = fakeClaudeDaemon({ varDir, env: { KSI_MAX_CONCURRENT: String(RUNNING), FAKE_CLAUDE_SLEEP_MS: cliSleepMs } });
    daemons.push(daemon);
    return daemon;
  };

  it.each([['SIGTERM'], ['SIGKILL']] as const)('%s with 50 queued and 4 running: after a restart all 54 complete exactly once', async (signal) => {
    const first = await fresh(undefined, INTERRUPTED_CLI_MS).start();
    const client = first.client();
    const ids = await queueJobs(client);
    await eventually(() => first.invocations().length === RUNNING);
    await client.close();
    const exit = await first.stop(signal);
    if (signal === 'SIGTERM') {
      expect(exit).toEqual({ code: 0, signal: null });
      for (const { pid } of first.invocations()) expect(alive(pid)).toBe(false);
    }
    const interruptedPids = first.invocations().map((entry) => entry.pid);

    const second = await fresh(first.varDir).start();
    await allCompleted(second, RUNNING + QUEUED);
    for (const pid of interruptedPids) expect(alive(pid)).toBe(false);
    const answers = second.answered();
    for (let i = 0; i < RUNNING + QUEUED; i++) expect(answers.filter((entry) => entry.stdin === prompt(i))).toHaveLength(1);
    const check = second.client();
    const records = await Promise.all(ids.map((id) => check.sendSingle('completion:status', { request_id: id }) as Promise<Record<string, any>>));
    expect(records.filter((record) => record.attempts === 2).map((record) => record.request_id)).toEqual(ids.slice(0, RUNNING));
    expect(records.every((record) => record.status === 'completed')).toBe(true);
    const health = await check.sendSingle('system:health');
    if (signal === 'SIGTERM') {
      expect(health.last_shutdown).toMatchObject({ kind: 'clean', acknowledged: expect.arrayContaining(['completion', 'mcp']) });
      expect(health.restored).toMatchObject({ reason: 'shutdown', results: { completion: { restored_requests: 54, retried_after_restart: 4, already_finished: 0 } } });
    } else {
      expect(health.last_shutdown).toMatchObject({ kind: 'crash' });
    }
    await check.close();
  });

  it('system:shutdown over the socket: the requester gets its reply and the notice, the barrier runs once, one checkpoint is written', async () => {
    const daemon = await fresh().start();
    const conn = await RawConnection.open(daemon.socketPath);
    const bystander = await RawConnection.open(daemon.socketPath);
    const reply = await conn.request({ event: 'system:shutdown', correlation_id: 'bye' });
    expect(reply).toMatchObject({ correlation_id: 'bye', data: { status: 'shutting_down', pid: daemon.pid } });
    const [notice] = await conn.read(1);
    expect(notice).toMatchObject({ event: 'system:shutdown_notification', push: true, data: { reason: 'daemon_shutdown' } });
    expect((await bystander.read(1))[0].event).toBe('system:shutdown_notification');
    expect(await daemon.waitForExit()).toEqual({ code: 0, signal: null });
    expect(await onDaemonDatabase(daemon.varDir, 'SELECT reason FROM checkpoints')).toEqual([{ reason: 'shutdown' }]);
    const runs = await onDaemonDatabase<{ shutdown: string }>(daemon.varDir, 'SELECT shutdown FROM daemon_runs');
    expect(runs).toHaveLength(1);
    expect(JSON.parse(runs[0].shutdown)).toMatchObject({ reason: 'requested', clean: true });
  });

  it('three restarts in a row with nothing in flight replay no old checkpoint; a turn that answers during the first stop is kept', async () => {
    const first = await fresh().start();
    let client = first.client();
    await client.sendSingle('completion:async', { prompt: 'long one [[sleep:1000]]', conversation_id: 'replay' });
    await client.sendSingle('completion:async', { prompt: 'after it', conversation_id: 'replay' });
    // Its CLI ignores the stop's SIGTERM and answers then: paid for, so it must not run again.
    const stopBegan = path.join(first.varDir, 'stop-began');
    const answering = `answers as the daemon stops [[ignore_sigterm:${stopBegan}]] [[result_after:${stopBegan}]]`;
    await client.sendSingle('completion:async', { prompt: answering, conversation_id: 'answering' });
    await eventually(() => first.invocations().length === 2);
    await client.close();
    await first.stop('SIGTERM');

    const restoredCounts: unknown[] = [];
    let previous = first;
    for (let run = 0; run < 3; run++) {
      const next = await fresh(previous.varDir).start();
      await allCompleted(next, 3);
      client = next.client();
      // The restore at start runs once the daemon answers: restored stays null until it is done.
      const restored = await eventually(async () => (await client.sendSingle('system:health')).restored);
      restoredCounts.push((restored as Record<string, any>).results.completion.restored_requests);
      await client.close();
      await next.stop('SIGTERM');
      previous = next;
    }
    expect(restoredCounts).toEqual([2, 0, 0]);
    expect(previous.answered().map((entry) => entry.stdin).sort()).toEqual(['after it', answering, 'long one [[sleep:1000]]']);
  }, 60_000);

  it('state, queues and completions written just before a SIGKILL are all there after the restart', async () => {
    const first = await fresh(undefined, INTERRUPTED_CLI_MS).start();
    const conn = await RawConnection.open(first.socketPath);
    conn.write(
      [
        { event: 'state:set', data: { key: 'last-words', value: { said: true } } },
        { event: 'async_state:push', data: { queue_name: 'last-queue', value: 'item' } },
        { event: 'completion:async', data: { prompt: 'last request', conversation_id: 'last' } },
      ]
        .map((line) => JSON.stringify(line))
        .join('\n') + '\n',
    );
    const replies = await conn.read(3);
    expect(replies.every((reply) => reply.data && !reply.code)).toBe(true);
    await first.stop('SIGKILL');

    const second = await fresh(first.varDir).start();
    const client = second.client();
    expect(await client.getValue('state:get', { key: 'last-words' })).toEqual({ said: true });
    expect(await client.getValue('async_state:pop', { queue_name: 'last-queue' })).toBe('item');
    await allCompleted(second, 1);
    expect(second.answered().filter((entry) => entry.stdin === 'last request')).toHaveLength(1);
    await client.close();
  });
});
