import * as fs from 'node:fs';
import * as path from 'node:path';
import type { KsiClient } from '../libs/client/src';
import { CompletionWatcher } from './support/completions';
import { DaemonProcess, eventually } from './support/daemon-process';
import { FakeAnthropicApi } from './support/fake-anthropic-api';

const API_KEY = 'sk-ant-test-key-not-real';

describe('the Anthropic Messages API provider, against a local fake of the API', () => {
  const api = new FakeAnthropicApi();
  let env: Record<string, string>;
  let daemon: DaemonProcess;
  let client: KsiClient;
  let watcher: CompletionWatcher;
  /** The session of the first conversation, continued by later tests. */
  let session: string;

  const connect = async (next: DaemonProcess) => {
    daemon = await next.start();
    client = daemon.client();
    watcher = new CompletionWatcher(client);
  };
  beforeAll(async () => {
    await api.start();
    // A long backoff: a retry that comes soon can only have followed retry-after.
    env = { KSI_ANTHROPIC_API_KEY: API_KEY, ANTHROPIC_BASE_URL: api.url, KSI_RETRY_INITIAL_MS: '600000', KSI_RETRY_MAX_MS: '600000' };
    await connect(new DaemonProcess({ env }));
  });
  afterAll(async () => {
    await client?.close();
    await daemon?.dispose();
    await api.stop();
  });

  const submit = async (data: Record<string, unknown>): Promise<string> =>
    ((await client.sendSingle('completion:async', { model: 'anthropic/claude-sonnet-4-5', ...data })) as { request_id: string }).request_id;
  const status = (requestId: string) => client.sendSingle('completion:status', { request_id: requestId }) as Promise<Record<string, any>>;

  it('streams text and tool use as progress pushes, then answers with a CLI-shaped result carrying cost and usage', async () => {
    api.next({ kind: 'reply', chunks: ['Hello', ', world'], toolUse: { id: 'toolu_1', name: 'web_search' }, usage: { input_tokens: 1_000_000, cache_read_input_tokens: 1_000_000, output_tokens: 0 } });
    const id = await submit({ prompt: 'say hello', system_prompt: 'Be brief.', allowed_tools: ['Read'] });
    const end = await watcher.end(id);
    const progress = watcher.of(id).filter((line) => line.event === 'completion:progress').map((line) => line.data);
    expect(progress).toEqual([
      expect.objectContaining({ status: 'calling_llm', attempt: 1 }),
      expect.objectContaining({ status: 'tool_use', tool: 'web_search', tool_use_id: 'toolu_1', attempt: 1 }),
      expect.objectContaining({ status: 'streaming', delta: 'Hello', attempt: 1 }),
      expect.objectContaining({ status: 'streaming', delta: ', world', attempt: 1 }),
    ]);
    expect(end.event).toBe('completion:result');
    session = end.data.session_id;
    expect(session).toMatch(/^[0-9a-f-]{36}$/);
    const response = end.data.result.response;
    expect(end.data.result.ksi).toMatchObject({ provider: 'anthropic', request_id: id, attempt: 1, prompt: 'say hello' });
    expect(response).toMatchObject({
      type: 'result',
      subtype: 'success',
      is_error: false,
      result: 'Hello, world',
      session_id: session,
      num_turns: 1,
      model: 'claude-sonnet-4-5',
      stop_reason: 'end_turn',
      usage: { input_tokens: 1_000_000, output_tokens: 2, cache_read_input_tokens: 1_000_000, cache_creation_input_tokens: 0 },
      duration_ms: expect.any(Number),
      duration_api_ms: expect.any(Number),
      ignored_options: ['allowed_tools'],
    });
    // Sonnet 4.5 list prices: $3 per million input tokens, $0.30 per million cache reads, $15 per million output tokens.
    expect(response.total_cost_usd).toBeCloseTo(3 + 0.3 + 2 * 15e-6, 9);
    expect((await status(id)).result.response.result).toBe('Hello, world');

    const sent = api.requests.at(-1);
    expect(sent?.path).toBe('/v1/messages');
    expect(sent?.body).toEqual({ model: 'claude-sonnet-4-5', max_tokens: 8192, stream: true, system: 'Be brief.', messages: [{ role: 'user', content: 'say hello' }] });
    expect(`${sent?.headers['x-api-key']} ${sent?.headers.authorization}`).toContain(API_KEY);
  });

  it('sends the session’s earlier messages with the next turn, and keeps the session id', async () => {
    const end = await watcher.end(await submit({ prompt: 'and again', session_id: session }));
    expect(end.data).toMatchObject({ session_id: session, result: { response: { result: 'echo: and again', session_id: session } } });
    expect(api.requests.at(-1)?.body.messages).toEqual([
      { role: 'user', content: 'say hello' },
      { role: 'assistant', content: 'Hello, world' },
      { role: 'user', content: 'and again' },
    ]);
  });

  it('fails a session it has no messages for with session_not_found, in one attempt, without calling the API', async () => {
    const before = api.requests.length;
    const end = await watcher.end(await submit({ prompt: 'who are you?', session_id: '00000000-0000-4000-8000-00000000beef' }));
    expect(end.event).toBe('completion:error');
    expect(end.data).toMatchObject({ code: 'session_not_found', attempts: 1, error: expect.stringContaining('No conversation found with session ID: 00000000-0000-4000-8000-00000000beef') });
    expect(api.requests.length).toBe(before);
  });

  it('lets an agent whose session outgrew the context window start a new session on agent:retry', async () => {
    const send = (event: string, data: Record<string, unknown>) => client.sendSingle(event, data) as Promise<Record<string, any>>;
    await send('agent:spawn', { profile: 'base_agent', agent_id: 'verbose', config: { model: 'anthropic/claude-sonnet-4-5' } });
    await send('agent:send_message', { agent_id: 'verbose', message: { prompt: 'remember this' } });
    const first = (await eventually(async () => (await send('agent:info', { agent_id: 'verbose' })).session_id, 10_000, 'the agent’s first session'))!;

    api.next({ kind: 'error', status: 400, type: 'invalid_request_error', message: 'prompt is too long: 210345 tokens > 200000 maximum' });
    await send('agent:send_message', { agent_id: 'verbose', message: { prompt: 'one more thing' } });
    const failed = (await eventually(async () => {
      const info = await send('agent:info', { agent_id: 'verbose' });
      return info.failed_messages === 1 ? info : undefined;
    }, 10_000, 'the overflowing turn to fail'))!;
    expect(failed.failed_turns).toEqual([expect.objectContaining({ prompt: 'one more thing', code: 'context_overflow' })]);
    expect(failed.session_id).toBeNull();

    await send('agent:retry', { agent_id: 'verbose' });
    const recovered = (await eventually(async () => {
      const info = await send('agent:info', { agent_id: 'verbose' });
      return info.failed_messages === 0 && info.session_id ? info : undefined;
    }, 10_000, 'the retried turn on a new session'))!;
    expect(recovered.session_id).not.toBe(first);
    expect(api.requests.at(-1)?.body.messages).toEqual([{ role: 'user', content: 'one more thing' }]);
  });

  it('retries a rate limit once retry-after has passed, and keeps nothing of the failed attempt', async () => {
    api.next({ kind: 'error', status: 429, type: 'rate_limit_error', message: 'Number of request tokens has exceeded your per-minute rate limit', headers: { 'retry-after': '1' } });
    const before = api.requests.length;
    const id = await submit({ prompt: 'busy?' });
    const end = await watcher.end(id);
    expect(end.event).toBe('completion:result');
    const [limited, retried] = api.requests.slice(before);
    const scheduled = watcher.of(id).find((line) => line.data.status === 'retry_scheduled')?.data;
    expect(scheduled).toMatchObject({ code: 'rate_limited', attempt: 1, error: expect.stringContaining('Number of request tokens has exceeded your per-minute rate limit') });
    const retryAt = scheduled?.next_attempt_at * 1000;
    // The backoff would be up to 10 minutes (KSI_RETRY_MAX_MS): a retry that came at all came from retry-after.
    expect(retryAt).toBeGreaterThanOrEqual((limited.answeredAt as number) + 1000);
    expect(retried.receivedAt).toBeGreaterThanOrEqual(Math.floor(retryAt));
    expect(retried.body.messages).toEqual([{ role: 'user', content: 'busy?' }]);
    expect(await status(id)).toMatchObject({ status: 'completed', attempts: 2 });
  });

  it('fails a rejected API key after one attempt, with the API’s own message', async () => {
    api.next({ kind: 'error', status: 401, type: 'authentication_error', message: 'invalid x-api-key' });
    const before = api.requests.length;
    const id = await submit({ prompt: 'let me in' });
    const end = await watcher.end(id);
    expect(end.event).toBe('completion:error');
    expect(end.data).toMatchObject({ code: 'auth_error', attempts: 1, error: 'Anthropic API: invalid x-api-key (401 authentication_error)' });
    expect(api.requests.length - before).toBe(1);
  });

  it('stops the HTTP request when the completion is cancelled', async () => {
    api.next({ kind: 'hang' });
    const id = await submit({ prompt: 'take your time' });
    await eventually(() => watcher.of(id).some((line) => line.data.delta === 'thinking about it'), 10_000, 'the first streamed text');
    const request = api.requests.at(-1);
    await client.sendSingle('completion:cancel', { request_id: id });
    expect((await watcher.end(id)).event).toBe('completion:cancelled');
    await eventually(() => request?.closedByClient, 5_000, 'the API request closed by the daemon');
  });

  it('stops a turn that outlives its timeout and says so', async () => {
    api.next({ kind: 'hang' });
    const id = await submit({ prompt: 'never finishes', timeout: 0.5, max_attempts: 1 });
    const end = await watcher.end(id);
    expect(end.data).toMatchObject({ code: 'timeout', error: expect.stringContaining('did not finish within 500 ms') });
    await eventually(() => api.requests.at(-1)?.closedByClient, 5_000, 'the API request closed by the daemon');
  });

  it('keeps a session’s messages across a daemon restart, and never writes the API key to disk', async () => {
    await client.close();
    await daemon.stop('SIGTERM');
    const settings = fs.readFileSync(path.join(daemon.varDir, 'run', 'daemon.settings.json'), 'utf8');
    expect(settings).toContain(api.url);
    expect(settings).not.toContain(API_KEY);
    await connect(new DaemonProcess({ varDir: daemon.varDir, env }));
    const end = await watcher.end(await submit({ prompt: 'still there?', session_id: session }));
    expect(end.event).toBe('completion:result');
    expect(api.requests.at(-1)?.body.messages.map((message) => message.content)).toEqual(['say hello', 'Hello, world', 'and again', 'echo: and again', 'still there?']);
  });
});

describe('the Anthropic provider without an API key', () => {
  const api = new FakeAnthropicApi();
  const daemon = new DaemonProcess({ env: { ANTHROPIC_API_KEY: '', KSI_ANTHROPIC_API_KEY: '' } });
  let client: KsiClient;
  beforeAll(async () => {
    await api.start();
    daemon.env.ANTHROPIC_BASE_URL = api.url;
    await daemon.start();
    client = daemon.client();
  });
  afterAll(async () => {
    await client?.close();
    await daemon.dispose();
    await api.stop();
  });

  it('fails at once with a permanent error saying to set the key, and calls nothing', async () => {
    const watcher = new CompletionWatcher(client);
    const { request_id: id } = (await client.sendSingle('completion:async', { prompt: 'hi', model: 'anthropic/claude-haiku-4-5' })) as { request_id: string };
    const end = await watcher.end(id);
    expect(end.event).toBe('completion:error');
    expect(end.data).toMatchObject({ code: 'auth_error', attempts: 1, error: expect.stringMatching(/^Neither KSI_ANTHROPIC_API_KEY nor ANTHROPIC_API_KEY is set in the daemon’s environment/) });
    expect(api.requests).toEqual([]);
  });
});
