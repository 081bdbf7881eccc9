import * as fs from 'node:fs';
import * as path from 'node:path';
import type { KsiClient } from '../libs/client/src';
import { eventually } from './support/daemon-process';
import { CompletionWatcher, FAKE_CLAUDE, fakeClaudeDaemon, optionValues } from './support/completions';
import { ksi } from './support/ksi-cli';
import { alive } from './support/processes';

describe('completions with the fake Claude CLI', () => {
  // A webhook key (and, on PostgreSQL, the database URL) the daemon holds and its CLIs must not see.
  const daemon = fakeClaudeDaemon({ env: { KSI_MAX_CONCURRENT: '2', KSI_RETRY_INITIAL_MS: '300', KSI_APPROVAL_WEBHOOK_SECRET: 'hmac-key' } });
  let client: KsiClient;
  let watcher: CompletionWatcher;

  beforeAll(async () => {
    await daemon.start();
    client = daemon.client();
    watcher = new CompletionWatcher(client);
  });
  afterAll(async () => {
    await client.close();
    await daemon.dispose();
  });

  const submit = async (data: Record<string, unknown>): Promise<string> => ((await client.sendSingle('completion:async', data)) as { request_id: string }).request_id;
  const status = (requestId: string) => client.sendSingle('completion:status', { request_id: requestId }) as Promise<Record<string, any>>;

  it('pushes progress and the result to the requester, with the real event names, and keeps the result readable', async () => {
    const id = await submit({ prompt: 'hello world', model: 'claude-cli/sonnet' });
    const end = await watcher.end(id);
    expect(watcher.of(id).map((line) => line.event)).toEqual(['completion:progress', 'completion:progress', 'completion:result']);
    expect(watcher.of(id)[0].data).toMatchObject({ status: 'calling_llm', attempt: 1 });
    expect(watcher.of(id)[1].data).toMatchObject({ status: 'streaming', attempt: 1, delta: 'echo: hello world' });
    expect(end.data).toMatchObject({
      request_id: id,
      session_id: expect.any(String),
      result: { ksi: { provider: 'claude-cli', request_id: id, attempt: 1 }, response: { type: 'result', result: 'echo: hello world' } },
    });
    const record = await status(id);
    expect(record).toMatchObject({ request_id: id, status: 'completed', attempts: 1, max_attempts: 3, result_session_id: end.data.session_id });
    expect(record.result.response.result).toBe('echo: hello world');
    const invocation = daemon.invocations().find((entry) => entry.stdin === 'hello world');
    expect(invocation?.argv).toEqual(['-p', '--output-format', 'stream-json', '--verbose', '--include-partial-messages', '--model=sonnet', expect.stringMatching(/^--session-id=[0-9a-f-]{36}$/)]);
  });

  it('writes a valid response log line under the returned session id', async () => {
    const id = await submit({ prompt: 'log me' });
    const end = await watcher.end(id);
    const file = path.join(daemon.varDir, 'logs', 'responses', `${end.data.session_id}.jsonl`);
    const lines = fs.readFileSync(file, 'utf8').trim().split('\n').map((line) => JSON.parse(line));
    expect(lines).toEqual([
      {
        ksi: { provider: 'claude-cli', request_id: id, timestamp: expect.any(String), duration_ms: expect.any(Number), attempt: 1, node_id: expect.any(String), client_id: expect.stringMatching(/^conn-/), prompt: 'log me', resumed_session_id: null },
        response: expect.objectContaining({ session_id: end.data.session_id, result: 'echo: log me' }),
      },
    ]);
  });

  it('resumes a session that keeps its id: the chain is that one session', async () => {
    const first = await watcher.end(await submit({ prompt: 'kept one' }));
    const session = first.data.session_id;
    const second = await watcher.end(await submit({ prompt: 'kept two', session_id: session }));
    expect(optionValues(daemon.invocations().find((entry) => entry.stdin === 'kept one')!.argv, '--session-id')).toEqual([session]);
    expect(optionValues(daemon.invocations().find((entry) => entry.stdin === 'kept two')!.argv, '--resume')).toEqual([session]);
    expect(second.data.session_id).toBe(session);
    const status = await client.sendSingle('completion:session_status', { session_id: session });
    expect(status).toMatchObject({ root_session_id: session, newest_session_id: session, chain: [session] });
    expect((status.completions as { request_id: string }[]).map((entry) => entry.request_id)).toEqual([first.data.request_id, second.data.request_id]);
  });

  it('resumes the newest session of a chain whose resumes return new ids, and records it', async () => {
    const [forkOne, forkTwo] = ['0b6c6f4e-1c1e-4c43-9a55-6b0b1d1d2f3a', '1c7d7f5f-2d2f-4d54-8b66-7c1c2e2e3f4b'];
    const first = await watcher.end(await submit({ prompt: 'turn one' }));
    const root = first.data.session_id;
    const second = await watcher.end(await submit({ prompt: `turn two [[session_id:"${forkOne}"]]`, session_id: root }));
    const third = await watcher.end(await submit({ prompt: `turn three [[session_id:"${forkTwo}"]]`, session_id: root }));
    const fourth = await watcher.end(await submit({ prompt: 'turn four', session_id: forkOne }));
    const resumed = (prefix: string) => optionValues(daemon.invocations().find((entry) => entry.stdin.startsWith(prefix))?.argv ?? [], '--resume')[0];
    expect(resumed('turn two')).toBe(root);
    expect(resumed('turn three')).toBe(forkOne);
    expect(resumed('turn four')).toBe(forkTwo);
    expect([second.data.session_id, third.data.session_id, fourth.data.session_id]).toEqual([forkOne, forkTwo, forkTwo]);
    const session = await client.sendSingle('completion:session_status', { session_id: forkOne });
    expect(session).toMatchObject({ root_session_id: root, newest_session_id: forkTwo, chain: [root, forkOne, forkTwo] });
    expect(session.completions).toHaveLength(4);
  });

  it('fails a resume of a session the CLI does not know at once, with its sentence', async () => {
    const unknown = '00000000-0000-4000-8000-000000000000';
    const end = await watcher.end(await submit({ prompt: 'who are you', session_id: unknown }));
    expect(end).toMatchObject({ event: 'completion:error', data: { code: 'session_not_found', attempts: 1, error: `No conversation found with session ID: ${unknown}` } });
  });

  it('passes tools, turns, system prompt and MCP config as flags, runs in the requested directory, and keeps the daemon’s credentials from the CLI', async () => {
    const cwd = fs.mkdtempSync(path.join(daemon.varDir, 'work-'));
    await watcher.end(
      await submit({
        prompt: 'flags please',
        model: 'opus',
        allowed_tools: ['Read', 'Grep'],
        disallowed_tools: ['Bash'],
        max_turns: 3,
        system_prompt: 'Be brief.',
        mcp_config: '/tmp/mcp.json',
        cwd,
      }),
    );
    const invocation = daemon.invocations().find((entry) => entry.stdin === 'flags please');
    expect(invocation?.argv).toEqual([
      '-p', '--output-format', 'stream-json', '--verbose', '--include-partial-messages', '--model=opus',
      '--allowedTools=Read', '--allowedTools=Grep', '--disallowedTools=Bash', '--max-turns=3',
      expect.stringMatching(/^--session-id=/), '--mcp-config=/tmp/mcp.json', '--append-system-prompt=Be brief.',
    ]);
    expect(invocation?.cwd).toBe(cwd);
    expect(invocation?.env.KSI_APPROVAL_WEBHOOK_SECRET).toBeUndefined();
    expect(invocation?.env.KSI_DATABASE_URL).toBeUndefined();
  });

  it('starts higher-priority requests first when they compete for the limit', async () => {
    // The blockers hold both slots until they are cancelled, so low and high surely wait together.
    const blockers = await Promise.all([0, 1].map((i) => submit({ prompt: `blocker ${i} [[hang]]`, conversation_id: `blocker-${i}` })));
    await eventually(() => blockers.every((_, i) => daemon.invocations().some((entry) => entry.stdin === `blocker ${i} [[hang]]`)));
    const low = await submit({ prompt: 'low one', conversation_id: 'prio-low', priority: 'low' });
    const high = await submit({ prompt: 'high one', conversation_id: 'prio-high', priority: 'high' });
    const queue = await client.sendSingle('completion:queue_status');
    expect(queue).toMatchObject({ limit: 2, processing: 2, queued: 2 });
    expect(queue.queues.map((q) => q.queue_key)).toEqual(expect.arrayContaining(['prio-low', 'prio-high']));
    await client.sendSingle('completion:cancel', { request_id: blockers[0] });
    await Promise.all([low, high].map((id) => watcher.end(id)));
    await client.sendSingle('completion:cancel', { request_id: blockers[1] });
    expect((await status(high)).started_at).toBeLessThan((await status(low)).started_at);
  });

  it('runs two sessions in parallel while each session stays serial', async () => {
    // A1 runs until it is cancelled: B1 can only finish meanwhile if sessions run in parallel.
    const ids = await Promise.all([
      submit({ prompt: 'A1 [[hang]]', conversation_id: 'sess-a' }),
      submit({ prompt: 'A2', conversation_id: 'sess-a' }),
      submit({ prompt: 'B1', conversation_id: 'sess-b' }),
    ]);
    expect((await watcher.end(ids[2])).event).toBe('completion:result');
    expect(await status(ids[0])).toMatchObject({ status: 'processing' });
    expect(await status(ids[1])).toMatchObject({ status: 'queued' });
    await client.sendSingle('completion:cancel', { request_id: ids[0] });
    expect((await watcher.end(ids[1])).event).toBe('completion:result');
    const [a1, a2] = await Promise.all(ids.map(status));
    expect(a2.started_at).toBeGreaterThanOrEqual(a1.completed_at);
  });

  it('never runs more than KSI_MAX_CONCURRENT processes at once', async () => {
    // Six that never end on their own: exactly two run, the rest wait, until they are cancelled.
    const ids = await Promise.all(Array.from({ length: 6 }, (_, i) => submit({ prompt: `limit ${i} [[hang]]`, conversation_id: `limit-${i}` })));
    await eventually(() => daemon.invocations().filter((entry) => entry.stdin.startsWith('limit ')).length === 2);
    expect(await client.sendSingle('completion:queue_status')).toMatchObject({ limit: 2, processing: 2, queued: 4 });
    for (const id of ids) await client.sendSingle('completion:cancel', { request_id: id });
    await Promise.all(ids.map((id) => watcher.end(id)));
    const records = await Promise.all(ids.map(status));
    const overlapAt = (t: number) => records.filter((r) => r.started_at !== undefined && r.started_at <= t && t < r.completed_at).length;
    expect(Math.max(...records.filter((r) => r.started_at !== undefined).map((r) => overlapAt(r.started_at)))).toBeLessThanOrEqual(2);
  });

  it('retries a request that fails twice and succeeds on the third attempt, with the backoff visible', async () => {
    const id = await submit({ prompt: 'flaky [[fail:2]]' });
    const end = await watcher.end(id);
    expect(end.event).toBe('completion:result');
    const progress = watcher.of(id).filter((line) => line.event === 'completion:progress' && line.data.status !== 'streaming');
    expect(progress.map((line) => line.data.status)).toEqual(['calling_llm', 'retry_scheduled', 'calling_llm', 'retry_scheduled', 'calling_llm']);
    // Full jitter: each wait is random, bounded by 300 ms × 2^(attempt-1).
    progress
      .filter((line) => line.data.status === 'retry_scheduled')
      .forEach((line, i) => {
        expect(line.data).toMatchObject({ code: 'api_unreachable', attempt: i + 1, error: 'API Error: Unable to connect to API (ConnectionRefused)' });
        expect(line.data.next_attempt_at - line.timestamp).toBeLessThanOrEqual((300 * 2 ** i) / 1000 + 0.05);
      });
    expect(await status(id)).toMatchObject({ status: 'completed', attempts: 3 });
    expect(daemon.invocations().filter((entry) => entry.stdin === 'flaky [[fail:2]]')).toHaveLength(3);
  });

  it('retries a backed-off request while another queue waits behind a long running head', async () => {
    const head = await submit({ prompt: 'long head [[hang]]', conversation_id: 'stall-a' });
    const behind = await submit({ prompt: 'behind the long head', conversation_id: 'stall-a' });
    await eventually(() => daemon.invocations().some((entry) => entry.stdin === 'long head [[hang]]'));
    const flaky = await submit({ prompt: 'flaky elsewhere [[fail:1]]', conversation_id: 'stall-b' });
    const end = await watcher.end(flaky, 5_000);
    expect(end.event).toBe('completion:result');
    expect(await status(head)).toMatchObject({ status: 'processing' });
    await client.sendSingle('completion:cancel', { request_id: behind });
    await client.sendSingle('completion:cancel', { request_id: head });
  });

  it('fails a non-retryable request once, with its code', async () => {
    const id = await submit({ prompt: 'no auth [[auth]]' });
    const end = await watcher.end(id);
    expect(end).toMatchObject({ event: 'completion:error', data: { request_id: id, code: 'auth_error', attempts: 1 } });
    expect(await status(id)).toMatchObject({ status: 'failed', attempts: 1, error_code: 'auth_error' });
    expect(daemon.invocations().filter((entry) => entry.stdin === 'no auth [[auth]]')).toHaveLength(1);
  });

  it.each([
    ['garbage output', 'noise [[garbage]]', 'invalid_output'],
    ['an is_error result', 'oops [[is_error]]', 'cli_error_result'],
  ])('maps %s to a clear error code', async (_name, prompt, code) => {
    const end = await watcher.end(await submit({ prompt, max_attempts: 1 }));
    expect(end).toMatchObject({ event: 'completion:error', data: { code } });
  });

  it('waits until the reset time a rate limit reports', async () => {
    const id = await submit({ prompt: 'limited [[rate_limit:2]]', max_attempts: 2 });
    const waiting = await eventually(async () => (await client.sendSingle('completion:retry_status')).retrying.find((entry) => entry.request_id === id));
    expect(waiting).toMatchObject({ attempts: 1, max_attempts: 2, last_error: expect.stringContaining('usage limit reached') });
    const reported = daemon.invocations().find((entry) => entry.stdin === 'limited [[rate_limit:2]]')!.time;
    expect(waiting!.next_attempt_at * 1000).toBeGreaterThanOrEqual(Math.floor(reported / 1000) * 1000 + 2000);
    const end = await watcher.end(id);
    expect(end.data).toMatchObject({ code: 'rate_limited', attempts: 2 });
  });

  it('kills a hung CLI at the timeout', async () => {
    const id = await submit({ prompt: 'stuck [[hang]]', timeout: 0.5, max_attempts: 1 });
    const end = await watcher.end(id);
    expect(end.data).toMatchObject({ code: 'timeout' });
    const pid = daemon.invocations().find((entry) => entry.stdin === 'stuck [[hang]]')?.pid as number;
    await eventually(() => !alive(pid));
  });

  const timeoutBegan = path.join(daemon.varDir, 'timeout-began');
  it.each([
    ['answers as its timeout stops it', 0.5, `[[ignore_sigterm:${timeoutBegan}]] [[result_after:${timeoutBegan}]]`],
    // Its result must come before the timeout, on a loaded machine too.
    ['answered and is still exiting when its timeout stops it', 3, '[[linger]]'],
  ])('keeps the answer of a CLI that %s: the turn is paid for and is not run again', async (name, timeout, directives) => {
    const prompt = `${name} ${directives}`;
    const id = await submit({ prompt, timeout, max_attempts: 3 });
    const end = await watcher.end(id);
    expect(end).toMatchObject({ event: 'completion:result', data: { result: { ksi: { attempt: 1 }, response: { is_error: false } } } });
    expect(daemon.invocations().filter((entry) => entry.stdin === prompt)).toHaveLength(1);
  });

  it('cancels a request whose CLI answered and is still exiting: the cancel wins, and the turn is not run again', async () => {
    const prompt = 'answered before its cancel [[linger]]';
    const id = await submit({ prompt, max_attempts: 3 });
    await eventually(() => daemon.answered().some((entry) => entry.stdin === prompt), 10_000, 'the CLI to print its result');
    expect(await client.sendSingle('completion:cancel', { request_id: id })).toEqual({ request_id: id, status: 'cancelled' });
    expect((await watcher.end(id)).event).toBe('completion:cancelled');
    expect(await status(id)).toMatchObject({ status: 'cancelled', attempts: 1 });
    expect(daemon.invocations().filter((entry) => entry.stdin === prompt)).toHaveLength(1);
  });

  it('cancels a running request: its process is gone and no result ever comes', async () => {
    const id = await submit({ prompt: 'cancel me [[hang]]', conversation_id: 'cancel-session' });
    const queued = await submit({ prompt: 'behind it', conversation_id: 'cancel-session' });
    const pid = (await eventually(() => daemon.invocations().find((entry) => entry.stdin === 'cancel me [[hang]]')))!.pid;
    await eventually(async () => (await status(id)).pid === pid, 10_000, 'completion:status to show the running CLI\'s pid');
    expect(await client.sendSingle('completion:cancel', { request_id: queued })).toEqual({ request_id: queued, status: 'cancelled' });
    expect(await client.sendSingle('completion:cancel', { request_id: id })).toEqual({ request_id: id, status: 'cancelled' });
    await eventually(() => !alive(pid));
    expect((await watcher.end(id)).event).toBe('completion:cancelled');
    expect((await watcher.end(queued)).event).toBe('completion:cancelled');
    expect(await status(id)).toMatchObject({ status: 'cancelled' });
    expect(daemon.invocations().some((entry) => entry.stdin === 'behind it')).toBe(false);
    expect(await client.sendSingle('completion:cancel', { request_id: id })).toMatchObject({ code: 'invalid_state' });
    expect(await client.sendSingle('completion:cancel', { request_id: 'nope' })).toMatchObject({ code: 'not_found' });
  });

  it('takes the caller\'s request_id: sent again it answers with the first request and runs nothing twice; another turn under that id is refused', async () => {
    const gate = path.join(daemon.varDir, 'release-by-id');
    const prompt = `once by id [[result_after:${gate}]]`;
    const first = await client.sendSingle('completion:async', { request_id: 'my-turn-1', prompt, conversation_id: 'by-id' });
    expect(first).toMatchObject({ request_id: 'my-turn-1', status: 'queued', queue_key: 'by-id' });
    await eventually(() => daemon.invocations().some((entry) => entry.stdin === prompt), 10_000, 'the first attempt running');
    // The caller repeats itself on a new connection (as after losing its first): the pushes go there from now on.
    const other = daemon.client();
    const otherWatcher = new CompletionWatcher(other);
    expect(await other.sendSingle('completion:async', { request_id: 'my-turn-1', prompt, conversation_id: 'by-id' })).toMatchObject({ request_id: 'my-turn-1', status: 'processing' });
    expect(await other.sendSingle('completion:async', { request_id: 'my-turn-1', prompt: 'another turn', conversation_id: 'by-id' })).toMatchObject({
      code: 'already_exists',
      error: expect.stringContaining('Request my-turn-1 exists already for another turn'),
    });
    expect(await other.sendSingle('completion:async', { request_id: 'my-turn-1', prompt, conversation_id: 'by-id', model: 'claude-cli/opus' })).toMatchObject({ code: 'already_exists' });
    await expect(other.sendEvent('completion:async', { request_id: '../my-turn', prompt })).rejects.toMatchObject({ code: 'invalid_params', details: [{ path: 'request_id' }] });
    fs.writeFileSync(gate, '');
    expect(await otherWatcher.end('my-turn-1')).toMatchObject({ event: 'completion:result', data: { result: { response: { result: expect.stringContaining('once by id') } } } });
    expect(await other.sendSingle('completion:async', { request_id: 'my-turn-1', prompt, conversation_id: 'by-id' })).toMatchObject({ status: 'completed', message: expect.stringContaining('completion:status') });
    await other.close();
    expect(daemon.invocations().filter((entry) => entry.stdin === prompt)).toHaveLength(1);
  });

  it.each([
    ['300 characters', JSON.stringify('s'.repeat(300)), 'odd-long'],
    ['a number', '12345', 'odd-number'],
    ['an object', '{"id":1}', 'odd-object'],
  ])('fails an attempt whose CLI prints %s as its session id, and the queue moves on', async (_name, printed, queue) => {
    const id = await submit({ prompt: `odd session [[session_id:${printed}]]`, conversation_id: queue, max_attempts: 1 });
    const next = await submit({ prompt: `after the odd session in ${queue}`, conversation_id: queue });
    expect(await watcher.end(id)).toMatchObject({ event: 'completion:error', data: { code: 'invalid_output', error: expect.stringContaining('unusable session_id') } });
    expect(await status(id)).toMatchObject({ status: 'failed', error_code: 'invalid_output' });
    const after = await watcher.end(next);
    expect(after.event).toBe('completion:result');
    expect(await status(next)).toMatchObject({ status: 'completed', result_session_id: after.data.session_id });
  });

  it('ends an attempt that throws unexpectedly as failed (never left processing), and the queue moves on', async () => {
    const id = await submit({ prompt: 'unspawnable', cwd: '/tmp/\u0000nul', conversation_id: 'unexpected' });
    const next = await submit({ prompt: 'after the unspawnable one', conversation_id: 'unexpected' });
    expect(await watcher.end(id)).toMatchObject({ event: 'completion:error', data: { code: 'internal_error', error: expect.stringContaining('could not finish') } });
    expect(await status(id)).toMatchObject({ status: 'failed', error_code: 'internal_error' });
    expect((await watcher.end(next)).event).toBe('completion:result');
  });

  it('refuses session ids and tool names that could become paths or options', async () => {
    for (const session_id of ['--dangerously-skip-permissions', '..', 'a/b', 'x'.repeat(129)]) {
      await expect(client.sendEvent('completion:async', { prompt: 'x', session_id })).rejects.toMatchObject({ code: 'invalid_params', details: [{ path: 'session_id' }] });
    }
    await expect(client.sendEvent('completion:async', { prompt: 'x', allowed_tools: ['--dangerously-skip-permissions'] })).rejects.toMatchObject({ code: 'invalid_params' });
    await expect(client.sendEvent('completion:session_status', { session_id: '../x' })).rejects.toMatchObject({ code: 'invalid_params' });
    await expect(client.sendEvent('conversation:get', { session_id: '--x' })).rejects.toMatchObject({ code: 'invalid_params' });
  });

  it('refuses unknown providers, option-like model names and requests without a prompt', async () => {
    await expect(client.sendEvent('completion:async', { prompt: 'x', model: 'openai/gpt-4' })).rejects.toMatchObject({ code: 'invalid_params', details: [{ path: 'model' }] });
    await expect(client.sendEvent('completion:async', { prompt: 'x', model: 'claude-cli/--help' })).rejects.toMatchObject({ code: 'invalid_params', details: [{ path: 'model' }] });
    await expect(client.sendEvent('completion:async', { model: 'sonnet' })).rejects.toMatchObject({ code: 'invalid_params', details: [{ path: 'prompt' }] });
  });

  it('refuses agent_bridge without the agent whose bridge it is, or beside mcp_config', async () => {
    expect(await client.sendSingle('completion:async', { prompt: 'x', agent_bridge: true })).toMatchObject({ code: 'invalid_params', details: [{ path: 'agent_bridge' }] });
    await expect(client.sendEvent('completion:async', { prompt: 'x', agent_id: 'a', agent_bridge: true, mcp_config: '/tmp/m.json' })).rejects.toMatchObject({ code: 'invalid_params', details: [{ path: 'agent_bridge' }] });
  });

  it('refuses completion:result and friends from clients', async () => {
    await expect(client.sendEvent('completion:result', {})).rejects.toMatchObject({ code: 'forbidden_event' });
  });

  it('`ksi complete --wait` prints the result, or the error with exit 1', async () => {
    const ok = await ksi(['complete', 'from the cli', '--wait'], { KSI_SOCKET_PATH: daemon.socketPath });
    expect(ok).toMatchObject({ code: 0, stdout: 'echo: from the cli\n' });
    const failed = await ksi(['complete', 'cli auth [[auth]]', '--wait'], { KSI_SOCKET_PATH: daemon.socketPath });
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('Error (auth_error)');
  });

  it('refuses a cwd that is no folder at admission, naming cwd; a request sent again is answered from the first', async () => {
    const file = path.join(daemon.varDir, 'not-a-folder.txt');
    fs.writeFileSync(file, '');
    for (const cwd of ['/nonexistent', file, path.join(file, 'below')]) {
      expect(await client.sendSingle('completion:async', { prompt: 'x', cwd })).toMatchObject({ code: 'invalid_params', details: [{ path: 'cwd', message: expect.stringContaining(cwd) }] });
    }
    const cwd = fs.mkdtempSync(path.join(daemon.varDir, 'gone-'));
    const first = { request_id: 'in-a-folder', prompt: 'in a folder that goes', cwd };
    expect(await watcher.end(await submit(first))).toMatchObject({ event: 'completion:result' });
    fs.rmdirSync(cwd);
    expect(await client.sendSingle('completion:async', first)).toMatchObject({ status: 'completed' });
  });

  it('fails an attempt whose folder went after admission once, naming the folder, not as a missing CLI', async () => {
    const gate = path.join(daemon.varDir, 'folder-gate');
    const cwd = fs.mkdtempSync(path.join(daemon.varDir, 'going-'));
    const ahead = await submit({ prompt: `hold the queue [[result_after:${gate}]]`, conversation_id: 'folder-goes' });
    const id = await submit({ prompt: 'in a folder removed meanwhile', cwd, conversation_id: 'folder-goes' });
    fs.rmdirSync(cwd);
    fs.writeFileSync(gate, '');
    expect(await watcher.end(ahead)).toMatchObject({ event: 'completion:result' });
    expect(await watcher.end(id)).toMatchObject({ event: 'completion:error', data: { code: 'invalid_request', attempts: 1, error: expect.stringContaining(`${cwd} does not exist`) } });
    expect(daemon.invocations().filter((entry) => entry.stdin === 'in a folder removed meanwhile')).toEqual([]);
  });
});

describe('completions at volume', () => {
  const daemon = fakeClaudeDaemon({ env: { KSI_MAX_CONCURRENT: '4' } });
  beforeAll(() => daemon.start());
  afterAll(() => daemon.dispose());

  it('finishes 200 queued requests exactly once each', async () => {
    // One connection admits its lines one after another, each after its commit: on PostgreSQL with a
    // busy machine the last of 200 has waited for 199 commits, past the client's usual 10 s.
    const client = daemon.client(60_000);
    const watcher = new CompletionWatcher(client);
    const ids = await Promise.all(Array.from({ length: 200 }, (_, i) => client.sendSingle('completion:async', { prompt: `bulk ${i}`, conversation_id: `bulk-${i % 10}` }).then((r) => r.request_id)));
    const ends = await Promise.all(ids.map((id) => watcher.end(id, 60_000)));
    expect(ends.every((end) => end.event === 'completion:result')).toBe(true);
    const prompts = daemon.invocations().map((entry) => entry.stdin);
    expect(prompts).toHaveLength(200);
    expect(new Set(prompts).size).toBe(200);
    expect((await client.sendSingle('completion:status', {})) as Record<string, any>).toMatchObject({ status_counts: { completed: 200, queued: 0, processing: 0 } });
    await client.close();
    // Its own deadlines (admission, then the results) bound it, not Jest's 30 s default.
  }, 150_000);
});

describe('completions without a Claude CLI', () => {
  const daemon = fakeClaudeDaemon({ env: { CLAUDE_BIN: '/nonexistent/claude' } });
  beforeAll(() => daemon.start());
  afterAll(() => daemon.dispose());

  it('fails at once with cli_not_found and says how to fix it', async () => {
    const client = daemon.client();
    const watcher = new CompletionWatcher(client);
    const { request_id } = (await client.sendSingle('completion:async', { prompt: 'anyone there?' })) as { request_id: string };
    const end = await watcher.end(request_id);
    expect(end).toMatchObject({ event: 'completion:error', data: { code: 'cli_not_found', attempts: 1 } });
    expect(end.data.error).toContain('CLAUDE_BIN');
    expect(await client.sendSingle('system:health')).toMatchObject({ status: 'degraded', claude_cli: { path: '/nonexistent/claude', status: 'missing' } });
    const status = await ksi(['status'], { KSI_SOCKET_PATH: daemon.socketPath });
    expect(status.stdout).toContain('degraded (Claude CLI /nonexistent/claude is missing: set CLAUDE_BIN)');
    await client.close();
  });
});

describe('a relative CLAUDE_BIN', () => {
  // The daemon runs in this process's working directory; the request runs the CLI elsewhere (as agents do).
  const daemon = fakeClaudeDaemon({ env: { CLAUDE_BIN: path.relative(process.cwd(), FAKE_CLAUDE) } });
  beforeAll(() => daemon.start());
  afterAll(() => daemon.dispose());

  it('is resolved at start, so a CLI run in another directory is found, and health names the absolute path', async () => {
    const client = daemon.client();
    const watcher = new CompletionWatcher(client);
    const { request_id } = (await client.sendSingle('completion:async', { prompt: 'from elsewhere', cwd: daemon.varDir })) as { request_id: string };
    expect(await watcher.end(request_id)).toMatchObject({ event: 'completion:result', data: { result: { response: { result: 'echo: from elsewhere' } } } });
    expect((await client.sendSingle('system:health')).claude_cli).toEqual({ path: FAKE_CLAUDE, status: 'ok' });
    await client.close();
  });
});
