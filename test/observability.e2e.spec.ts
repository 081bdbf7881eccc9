import Database from 'better-sqlite3';
import * as path from 'node:path';
import { onDaemonDatabase } from './support/daemon-database';
import { eventually, useDaemon } from './support/daemon-process';
import { CompletionWatcher, useFakeClaudeDaemon } from './support/completions';
import { ksi } from './support/ksi-cli';
import { RawConnection } from './support/raw-connection';
import { testBackend } from './support/test-database';

interface Node {
  event_name: string;
  children: Node[];
}
const names = (nodes: Node[]): string[] => nodes.flatMap((node) => [node.event_name, ...names(node.children)]);

describe('event log, monitor and correlation (real daemon, fake Claude CLI)', () => {
  const { daemon, send, reconnect } = useFakeClaudeDaemon();

  it("lets a client subscribed to completion:* watch another client's request", async () => {
    const watcher = await RawConnection.open(daemon.socketPath);
    await watcher.request({ event: 'monitor:subscribe', data: { patterns: ['completion:*'] } });
    const other = daemon.client();
    const done = new CompletionWatcher(other);
    const { request_id } = (await other.sendSingle('completion:async', { prompt: 'watched' })) as { request_id: string };
    await done.end(request_id);
    const seen = await watcher.read(4);
    expect(seen.map((line) => line.data.event_name)).toEqual(['completion:async', 'completion:progress', 'completion:progress', 'completion:result']);
    expect(seen[2].data.data).toMatchObject({ request_id, status: 'streaming', delta: 'echo: watched' });
    expect(seen[3].data.data).toMatchObject({ request_id, result: { response: { result: 'echo: watched' } } });
    watcher.close();
    await other.close();
  });

  it('records events and filters them by pattern and time', async () => {
    const before = Date.now() / 1000;
    await send('state:set', { key: 'logged', value: { api_key: 'secret!' } });
    const { events } = await send('monitor:get_events', { patterns: ['state:set'], since: before });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ event_name: 'state:set', source: 'external', outcome: 'ok', data: { key: 'logged', value: { api_key: '[redacted]' } } });
    expect((await send('monitor:get_events', { patterns: ['state:set'], until: before - 3600 })).events).toHaveLength(0);
    const stats = (await send('monitor:get_stats')).event_log;
    expect(stats).toMatchObject({ enabled: true, by_namespace: expect.objectContaining({ state: expect.any(Number) }) });
    expect(stats.latency['state:set'].count).toBeGreaterThan(0);
  });

  it("traces an agent message through the completion to its result and the bus", async () => {
    const conn = await RawConnection.open(daemon.socketPath);
    await conn.request({ event: 'agent:spawn', data: { profile: 'base_agent', agent_id: 'traced' }, correlation_id: 'spawn-me' });
    await conn.request({ event: 'agent:send_message', data: { agent_id: 'traced', message: { prompt: 'follow me' } }, correlation_id: 'trace-me' });
    await eventually(() => daemon.answered().some((entry) => entry.stdin === 'follow me'));
    const tree = await eventually(async () => {
      const result = await send('correlation:tree', { correlation_id: 'trace-me' });
      return names(result.tree).includes('message:publish') ? result.tree : undefined;
    });
    expect(tree).toHaveLength(1);
    expect(tree[0].event_name).toBe('agent:send_message');
    expect(names(tree)).toEqual(expect.arrayContaining(['completion:async', 'completion:progress', 'completion:result', 'message:publish']));
    const printed = await ksi(['trace', 'trace-me'], { KSI_SOCKET_PATH: daemon.socketPath });
    expect(printed.stdout.split('\n')[0]).toMatch(/^agent:send_message \+0ms/);
    // Offsets count from when a request started: what it caused while it ran is not before it.
    const spawnTrace = await eventually(async () => {
      const result = await ksi(['trace', 'spawn-me'], { KSI_SOCKET_PATH: daemon.socketPath });
      return result.stdout.includes('permission:') ? result.stdout : '';
    }, 10_000, 'the trace of agent:spawn with what it caused');
    expect(spawnTrace.split('\n')[0]).toMatch(/^agent:spawn \+0ms/);
    expect(`${printed.stdout}${spawnTrace}`).not.toContain('+-');
    expect(printed.stdout).toContain('completion:result');
    conn.close();
  });

  it('removes rows older than the retention at start', async () => {
    await daemon.stop('SIGTERM');
    const old = Date.now() / 1000 - 30 * 86_400;
    const meta = JSON.stringify(['ancient', null, null, 'state:get', null, null, null, 'external', 'ok', 1]);
    await onDaemonDatabase(daemon.varDir, `INSERT INTO event_log (timestamp, meta, data) VALUES (?, ?, '{}')`, [old, meta]);
    await daemon.start();
    await reconnect();
    await eventually(async () => (await send('monitor:get_events', { since: old - 1, until: old + 1 })).events.length === 0);
    expect((await send('monitor:get_events', { patterns: ['state:set'] })).events.length).toBeGreaterThan(0);
  });

  it('writes every event of a burst larger than a batch, in order, and clears the log including rows still being written', async () => {
    const since = Date.now() / 1000;
    const client = daemon.client();
    const keys = Array.from({ length: 1_200 }, (_, i) => `burst-${i}`);
    await Promise.all(keys.map((key) => client.sendSingle('state:get', { key })));
    await client.close();
    const { events } = await send('monitor:get_events', { patterns: ['state:get'], since, limit: 5_000, reverse: false });
    expect(events.map((event: { data: { key: string } }) => event.data.key)).toEqual(keys);

    await Promise.all(keys.slice(0, 100).map((key) => send('state:get', { key })));
    const cleared = await send('monitor:clear_log');
    expect(cleared.events_cleared).toBeGreaterThanOrEqual(1_300);
    expect((await send('monitor:get_events', { patterns: ['state:get'], limit: 5_000 })).events).toEqual([]);
    await send('state:get', { key: 'after-clear' });
    expect((await send('monitor:get_events', { patterns: ['state:get'] })).events.map((event: { data: { key: string } }) => event.data.key)).toEqual(['after-clear']);
  });

  it('keeps the events of a graceful stop itself', async () => {
    await daemon.stop('SIGTERM');
    await daemon.start();
    await reconnect();
    const { events } = await send('monitor:get_events', { patterns: ['system:shutdown*', 'checkpoint:write'], limit: 10 });
    expect(events.map((event: { event_name: string }) => event.event_name)).toEqual(expect.arrayContaining(['system:shutdown_started', 'checkpoint:write', 'system:shutdown_complete']));
  });
});

(testBackend() === 'sqlite' ? describe : describe.skip)('the event log writer and the SQLite WAL (real daemon)', () => {
  const { daemon, client } = useDaemon();

  it('keeps the WAL short itself: what it holds is copied into the database once it passes 1,000 pages', async () => {
    // ~2 pages of WAL per set of a 3 KB value and its event: well past 1,000, and short of the 4,000
    // at which the daemon's own connection would copy it instead.
    const value = 'x'.repeat(3_000);
    const since = Date.now() / 1000;
    await Promise.all(Array.from({ length: 800 }, (_, i) => client().sendSingle('state:set', { key: `wal-${i}`, value })));
    // The query waits for the writer to have written every event, and so to have looked at the WAL after the last.
    const { events } = await client().sendSingle('monitor:get_events', { patterns: ['state:set'], since, limit: 1_000 });
    expect(events).toHaveLength(800);
    const db = new Database(path.join(daemon.varDir, 'db', 'ksi.db'), { fileMustExist: true });
    try {
      await eventually(() => {
        const [wal] = db.pragma('wal_checkpoint(NOOP)') as { log: number; checkpointed: number }[];
        if (wal.log >= 1_000 && wal.checkpointed < wal.log) throw new Error(`a WAL of ${wal.log} pages, ${wal.checkpointed} of them copied`);
        return wal;
      }, 10_000, 'a WAL shorter than 1,000 pages, or copied into the database whole');
    } finally {
      db.close();
    }
  });
});
