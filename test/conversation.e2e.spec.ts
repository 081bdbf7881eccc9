import * as fs from 'node:fs';
import type { KsiClient } from '../libs/client/src';
import { CompletionWatcher, fakeClaudeDaemon, useFakeClaudeDaemon } from './support/completions';
import { onDaemonDatabase } from './support/daemon-database';
import { eventually } from './support/daemon-process';

describe('conversations and locks (real daemon, fake Claude CLI)', () => {
  const { client: connected, send } = useFakeClaudeDaemon();
  let client: KsiClient;
  beforeAll(() => (client = connected()));

  it('lists, gets, searches and exports the turns just made, as one conversation per session chain (ids kept or changed on resume)', async () => {
    const watcher = new CompletionWatcher(client);
    const changed = '2d8e8a6a-3e3a-4e65-9c77-8d2d3f3f4a5c';
    // The second resume returns a new id (as with --fork-session), the first and third keep theirs.
    const prompts = ['What is KSI?', `And the daemon? [[session_id:"${changed}"]]`, 'Thanks, zebra.'];
    const sessions: string[] = [];
    for (const prompt of prompts) {
      const { request_id } = await send('completion:async', { prompt, ...(sessions[0] && { session_id: sessions[0] }) });
      sessions.push((await watcher.end(request_id)).data.session_id);
    }
    const root = sessions[0];
    expect(sessions).toEqual([root, changed, changed]);
    const { request_id: other } = await send('completion:async', { prompt: 'Unrelated question' });
    await watcher.end(other);

    const list = await send('conversation:list');
    expect(list.total).toBe(2);
    const chain = list.conversations.find((c: { root_session_id: string }) => c.root_session_id === root);
    expect(chain).toMatchObject({ session_id: sessions[2], message_count: 6, participants: expect.arrayContaining(['Claude']) });

    const got = await send('conversation:get', { session_id: sessions[1] });
    expect(got.root_session_id).toBe(root);
    expect(got.messages.map((m: { type: string; content: string }) => `${m.type}:${m.content}`)).toEqual([
      'user:What is KSI?',
      'claude:echo: What is KSI?',
      `user:${prompts[1]}`,
      `claude:echo: ${prompts[1]}`,
      'user:Thanks, zebra.',
      'claude:echo: Thanks, zebra.',
    ]);
    expect(await send('conversation:get', { session_id: 'nope' })).toMatchObject({ code: 'not_found' });

    const found = await send('conversation:search', { query: 'ZEBRA' });
    expect(found.results).toHaveLength(1);
    expect(found.results[0]).toMatchObject({ root_session_id: root, match_count: 2 });

    const exported = await send('conversation:export', { session_id: root, format: 'markdown' });
    expect(exported.message_count).toBe(6);
    expect(fs.readFileSync(exported.export_path, 'utf8')).toContain('Thanks, zebra.');
    expect((await send('conversation:stats')).total_messages).toBe(8);
  });

  it('hands a lock over in FIFO order and passes an expired lock on', async () => {
    expect(await send('conversation:acquire_lock', { request_id: 'r1', conversation_id: 'c1' })).toMatchObject({ acquired: true, state: 'locked' });
    expect(await send('conversation:acquire_lock', { request_id: 'r2', conversation_id: 'c1' })).toMatchObject({ acquired: false, state: 'queued', position: 1, holder: 'r1' });
    expect(await send('conversation:acquire_lock', { request_id: 'r3', conversation_id: 'c1' })).toMatchObject({ position: 2 });
    expect(await send('conversation:release_lock', { request_id: 'r2' })).toMatchObject({ released: false });
    expect(await send('conversation:release_lock', { request_id: 'r1' })).toMatchObject({ released: true, next_request: 'r3' });
    expect(await send('conversation:lock_status', { conversation_id: 'c1' })).toMatchObject({ locked: true, holder: 'r3', queue_length: 0 });
    expect(await send('conversation:release_lock', { request_id: 'r3' })).toMatchObject({ released: true, next_request: null });
    expect(await send('conversation:lock_status', { conversation_id: 'c1' })).toMatchObject({ locked: false });

    await send('conversation:acquire_lock', { request_id: 'slow', conversation_id: 'c2', timeout_seconds: 0.2 });
    await send('conversation:acquire_lock', { request_id: 'patient', conversation_id: 'c2' });
    await eventually(async () => (await send('conversation:lock_status', { conversation_id: 'c2' })).holder === 'patient');
    expect(await send('conversation:release_lock', { request_id: 'slow' })).toMatchObject({ released: false, error: 'No lock held by this request' });
  });
});

describe('conversations over more finished turns than one page holds', () => {
  const { daemon, client, send } = useFakeClaudeDaemon();

  it('lists, counts, searches, gets and exports them all', async () => {
    const watcher = new CompletionWatcher(client());
    const { request_id } = await send('completion:async', { prompt: 'Copy me, walrus' });
    const { session_id } = (await watcher.end(request_id)).data;
    // 450 more finished turns, read 200 at a time: 250 go on the real turn's conversation, 200 start one each.
    // Three at a time finish in the same millisecond, so a page ends between two of them (turns 200 and 201).
    const [row] = await onDaemonDatabase<Record<string, unknown>>(daemon.varDir, 'SELECT * FROM completion_requests WHERE request_id = ?', [request_id]);
    const copied: Record<string, string> = {
      request_id: `'copy-' || n.i`,
      result_session_id: `CASE WHEN n.i <= 250 THEN result_session_id ELSE 'chain-' || n.i END`,
      completed_at: 'completed_at + n.i / 3',
      seq: '-n.i',
    };
    const columns = Object.keys(row);
    await onDaemonDatabase(
      daemon.varDir,
      `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 450)
       INSERT INTO completion_requests (${columns.join(', ')}) SELECT ${columns.map((column) => copied[column] ?? column).join(', ')} FROM completion_requests, n WHERE request_id = ?`,
      [request_id],
    );

    const list = await send('conversation:list', { limit: 3, sort_by: 'message_count' });
    expect(list).toMatchObject({ total: 201, limit: 3 });
    expect(list.conversations.map((c: { message_count: number }) => c.message_count)).toEqual([502, 2, 2]);
    expect(list.conversations[0]).toMatchObject({ root_session_id: session_id, session_id });
    expect(await send('conversation:stats')).toMatchObject({ total_conversations: 201, total_messages: 902 });

    const found = await send('conversation:search', { query: 'WALRUS', limit: 2 });
    expect(found).toMatchObject({ total_conversations: 201 });
    expect(found.results.map((r: { match_count: number; matches: unknown[] }) => [r.match_count, r.matches.length])).toEqual([[502, 10], [2, 2]]);
    expect(found.results[0].root_session_id).toBe(session_id);

    const one = await send('conversation:get', { session_id: 'chain-450' });
    expect(one).toMatchObject({ root_session_id: 'chain-450', total: 2 });
    expect(one.messages.map((message: { content: string }) => message.content)).toEqual(['Copy me, walrus', 'echo: Copy me, walrus']);
    const tail = await send('conversation:get', { session_id, offset: 499, limit: 10 });
    expect(tail).toMatchObject({ total: 502, offset: 499 });
    expect(tail.messages.map((message: { type: string }) => message.type)).toEqual(['claude', 'user', 'claude']);

    const exported = await send('conversation:export', { session_id, format: 'json' });
    const text = fs.readFileSync(exported.export_path, 'utf8');
    const parsed = JSON.parse(text);
    expect(exported).toMatchObject({ message_count: 502, size_bytes: Buffer.byteLength(text) });
    expect(parsed).toMatchObject({ session_id, total_messages: 502 });
    expect(parsed.messages).toHaveLength(502);
    // Written a message at a time, the same text as the whole object stringified.
    expect(text).toBe(JSON.stringify(parsed, null, 2));
    const markdown = await send('conversation:export', { session_id: 'chain-450', format: 'markdown' });
    expect(fs.readFileSync(markdown.export_path, 'utf8')).toMatch(/^# Conversation chain-450\n\n2 messages, exported \S+\n\n### \S+ - \S+\n\nCopy me, walrus\n\n---\n\n### \S+ - Claude\n\necho: Copy me, walrus\n\n---\n$/);
  });
});

describe('completions that ask for the conversation lock', () => {
  const daemon = fakeClaudeDaemon();
  beforeAll(() => daemon.start());
  afterAll(() => daemon.dispose());

  it('wait while someone else holds the lock and run once it is released', async () => {
    const client = daemon.client();
    const watcher = new CompletionWatcher(client);
    await client.sendSingle('conversation:acquire_lock', { request_id: 'outsider', conversation_id: 'locked-talk' });
    const { request_id } = (await client.sendSingle('completion:async', { prompt: 'needs the lock', conversation_id: 'locked-talk', conversation_lock: { enabled: true } })) as { request_id: string };
    await eventually(async () => ((await client.sendSingle('completion:status', { request_id })) as { error_code?: string }).error_code === 'lock_wait');
    expect(await client.sendSingle('completion:status', { request_id })).toMatchObject({ status: 'queued', attempts: 0, error_code: 'lock_wait' });
    expect(daemon.invocations().some((entry) => entry.stdin === 'needs the lock')).toBe(false);
    await client.sendSingle('conversation:release_lock', { request_id: 'outsider' });
    expect((await watcher.end(request_id)).event).toBe('completion:result');
    expect(await client.sendSingle('conversation:lock_status', { conversation_id: 'locked-talk' })).toMatchObject({ locked: false });
    await client.close();
  });
});
