import type { KsiClient } from '../libs/client/src';
import { eventually } from './support/daemon-process';
import { CompletionWatcher, fakeClaudeDaemon } from './support/completions';
import { ksi } from './support/ksi-cli';
import { RawConnection } from './support/raw-connection';

/** The fake CLI reports $0.0001 per turn, the prompt's length as input tokens and 6 more as output tokens. */
const TURN_USD = 0.0001;

describe('costs with the fake Claude CLI', () => {
  const daemon = fakeClaudeDaemon({ env: { KSI_RETRY_INITIAL_MS: '50', KSI_RETRY_MAX_MS: '100' } });
  let client: KsiClient;
  let watcher: CompletionWatcher;
  const ids: Record<string, string> = {};
  /** Epoch milliseconds (whole) just after the earlier requests finished, and the same in seconds. */
  let markMs = 0;
  let mark = 0;

  const send = (event: string, data: Record<string, unknown> = {}) => client.sendSingle(event, data) as Promise<Record<string, any>>;
  const status = (requestId: string) => send('completion:status', { request_id: requestId });
  const run = async (name: string, data: Record<string, unknown>) => {
    ids[name] = (await send('completion:async', data)).request_id;
    return (await watcher.end(ids[name])).data;
  };
  const summary = (by: string, since?: string | number) => send('cost:summary', { by, ...(since !== undefined && { since }) });

  /**
   * Seven requests: two on one session chain (one with the bare model name), two turns of an agent,
   * one that failed twice with a cost each time, one that failed without reporting a cost, then one
   * on another model after `mark`.
   */
  beforeAll(async () => {
    await daemon.start();
    client = daemon.client();
    watcher = new CompletionWatcher(client);
    const first = await run('first', { prompt: 'alpha', model: 'claude-cli/sonnet' });
    await run('resumed', { prompt: 'beta', model: 'sonnet', session_id: first.session_id });
    await send('agent:spawn', { profile: 'conversationalist', agent_id: 'talker' });
    await send('agent:send_message', { agent_id: 'talker', message: { prompt: 'one' } });
    await send('agent:send_message', { agent_id: 'talker', message: { prompt: 'two' } });
    await eventually(async () => (await send('agent:info', { agent_id: 'talker' })).costs.requests === 2 && (await send('agent:info', { agent_id: 'talker' })).status === 'idle');
    await run('failing', { prompt: '[[is_error]] gamma', model: 'claude-cli/sonnet', max_attempts: 2 });
    await run('missing', { prompt: '[[auth]] delta', model: 'claude-cli/sonnet' });
    // Just after the last earlier request finished (`since` includes that instant itself); the late one ends a CLI run later.
    markMs = Math.round((await status(ids.missing)).completed_at * 1000) + 1;
    mark = markMs / 1000;
    await run('late', { prompt: 'omega', model: 'claude-cli/opus' });
  });
  afterAll(async () => {
    await client?.close();
    await daemon.dispose();
  });

  it('completion:status shows the cost, the usage, the turns and the API time of a finished request', async () => {
    expect(await status(ids.first)).toMatchObject({
      status: 'completed',
      cost_usd: TURN_USD,
      usage: { input_tokens: 5, output_tokens: 11, cache_read_input_tokens: 3, cache_creation_input_tokens: 2 },
      num_turns: 1,
      duration_api_ms: 10,
    });
    expect(await status(ids.missing)).toMatchObject({ status: 'failed', cost_usd: 0, usage: { input_tokens: 0, output_tokens: 0 }, num_turns: 1 });
  });

  it('adds up every attempt of a retried request, failed ones included', async () => {
    const failing = await status(ids.failing);
    const tokens = '[[is_error]] gamma'.length;
    expect(failing).toMatchObject({ status: 'failed', attempts: 2, num_turns: 2, duration_api_ms: 20, usage: { input_tokens: 2 * tokens, output_tokens: 2 * (tokens + 6) } });
    expect(failing.cost_usd).toBeCloseTo(2 * TURN_USD, 12);
  });

  it("records the agent's composed profile on its requests, and agent:info adds up the agent's costs", async () => {
    const talker = await send('agent:info', { agent_id: 'talker' });
    expect(talker.costs).toEqual({ cost_usd: 2 * TURN_USD, usage: { input_tokens: 6, output_tokens: 18, cache_read_input_tokens: 6, cache_creation_input_tokens: 4 }, requests: 2, turns: 2 });
    const { completions } = await send('completion:session_status', { session_id: talker.session_id });
    expect(completions).toHaveLength(2);
    for (const { request_id } of completions) expect(await status(request_id)).toMatchObject({ profile: 'conversationalist' });
    expect((await status(ids.first)).profile).toBeUndefined();
  });

  it('cost:summary adds up by agent and by profile, with totals over every request that ran', async () => {
    const byAgent = await summary('agent');
    expect(byAgent).toMatchObject({ by: 'agent', since: null });
    expect(byAgent.rows).toEqual([
      { key: null, cost_usd: 5 * TURN_USD, usage: expect.any(Object), requests: 5, turns: 6 },
      { key: 'talker', cost_usd: 2 * TURN_USD, usage: { input_tokens: 6, output_tokens: 18, cache_read_input_tokens: 6, cache_creation_input_tokens: 4 }, requests: 2, turns: 2 },
    ]);
    expect(byAgent.totals).toMatchObject({ cost_usd: 7 * TURN_USD, requests: 7, turns: 8 });
    const byProfile = await summary('profile');
    expect(byProfile.rows.map(({ key, requests }: { key: string | null; requests: number }) => [key, requests])).toEqual([
      [null, 5],
      ['conversationalist', 2],
    ]);
    expect(byProfile.totals).toEqual(byAgent.totals);
  });

  it('cost:summary by session counts a resumed chain under its root session', async () => {
    const first = await status(ids.first);
    const talker = await send('agent:info', { agent_id: 'talker' });
    const { root_session_id: talkerRoot } = await send('completion:session_status', { session_id: talker.session_id });
    const { rows, totals } = await summary('session');
    const requestsOf = (key: string | null) => rows.find((row: { key: string | null }) => row.key === key)?.requests;
    expect(requestsOf(first.result_session_id)).toBe(2);
    expect(requestsOf(talkerRoot)).toBe(2);
    expect(requestsOf((await status(ids.late)).result_session_id)).toBe(1);
    // The failed requests never got a session back.
    expect(requestsOf(null)).toBe(2);
    expect(rows).toHaveLength(4);
    expect(totals.requests).toBe(7);
  });

  it('cost:summary by model takes a bare name as the Claude CLI’s, and by day and hour groups by UTC date and hour', async () => {
    const byModel = await summary('model');
    expect(byModel.rows.map(({ key, requests }: { key: string; requests: number }) => [key, requests])).toEqual([
      ['claude-cli/sonnet', 6],
      ['claude-cli/opus', 1],
    ]);
    const byDay = await summary('day');
    const today = new Date().toISOString().slice(0, 10);
    expect(byDay.rows.map((row: { key: string }) => row.key)).toContain(today);
    for (const row of byDay.rows) expect(row.key).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(byDay.totals).toEqual(byModel.totals);
    const byHour = await summary('hour');
    const hours = byHour.rows.map((row: { key: string }) => row.key);
    for (const hour of hours) expect(hour).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:00Z$/);
    expect(hours).toEqual([...hours].sort());
    // The hour a request finished in is around now (it may have turned since).
    expect(Date.now() - Date.parse(hours.at(-1))).toBeLessThan(2 * 3_600_000);
    expect(byHour.totals).toEqual(byModel.totals);
  });

  it('since keeps what was spent from then on, given as epoch seconds, an ISO time or a time ago', async () => {
    const later = await summary('model', mark);
    expect(later).toMatchObject({ since: mark, rows: [{ key: 'claude-cli/opus', requests: 1, cost_usd: TURN_USD }], totals: { requests: 1 } });
    expect((await summary('model', new Date(markMs).toISOString())).totals.requests).toBe(1);
    expect((await summary('agent', '1h')).totals.requests).toBe(7);
    expect((await summary('day', '2999-01-01')).rows).toEqual([]);
    expect((await summary('day', '2999-01-01')).totals).toMatchObject({ cost_usd: 0, requests: 0, turns: 0 });
  });

  it('answers an unknown dimension or a time it cannot read with invalid_params naming the field', async () => {
    await expect(summary('week')).rejects.toMatchObject({ code: 'invalid_params', details: [{ path: 'by', message: expect.any(String) }] });
    await expect(send('cost:summary', {})).rejects.toMatchObject({ code: 'invalid_params', details: [{ path: 'by', message: expect.stringContaining('agent') }] });
    await expect(summary('day', 'last tuesday')).rejects.toMatchObject({ code: 'invalid_params', details: [{ path: 'since', message: expect.stringContaining('Not a time') }] });
    await expect(summary('day', -5)).rejects.toMatchObject({ code: 'invalid_params', details: [{ path: 'since', message: expect.any(String) }] });
  });

  it('ksi costs prints the table with its totals; a bad --by or --since is a usage error', async () => {
    const byModel = await ksi(['costs', '--by', 'model', '--socket', daemon.socketPath]);
    expect(byModel.code).toBe(0);
    const lines = byModel.stdout.trim().split('\n');
    expect(lines[0].split(/\s{2,}/)).toEqual(['MODEL', 'COST (USD)', 'REQUESTS', 'TURNS', 'INPUT', 'OUTPUT', 'CACHE READ', 'CACHE WRITE']);
    expect(lines[1].split(/\s{2,}/).slice(0, 4)).toEqual(['claude-cli/sonnet', '$0.0006', '6', '7']);
    expect(lines[2].split(/\s{2,}/).slice(0, 4)).toEqual(['claude-cli/opus', '$0.0001', '1', '1']);
    expect(lines[3].split(/\s{2,}/).slice(0, 4)).toEqual(['TOTAL', '$0.0007', '7', '8']);

    const byAgent = await ksi(['costs', '--since', '1h', '--socket', daemon.socketPath]);
    expect(byAgent.stdout).toMatch(/^AGENT/);
    expect(byAgent.stdout).toMatch(/^talker\s+\$0\.0002\s+2\s+2\s+6\s+18\s+6\s+4$/m);
    expect(byAgent.stdout).toMatch(/^since \d{4}-\d{2}-\d{2}T/m);
    expect((await ksi(['costs', '--since', '2999-01-01', '--socket', daemon.socketPath])).stdout).toMatch(/^No costs recorded since 2999-01-01T00:00:00.000Z/);

    const badSince = await ksi(['costs', '--since', 'yesterday-ish', '--socket', daemon.socketPath]);
    expect(badSince).toMatchObject({ code: 2, stderr: expect.stringContaining('--since yesterday-ish is not a time') });
    expect(await ksi(['costs', '--by', 'week', '--socket', daemon.socketPath])).toMatchObject({ code: 2, stderr: expect.stringContaining('--by week is not one of agent, profile, session, model, day, hour') });
  });

  it('never redacts usage counters in the event log or the monitor stream', async () => {
    const usage = {
      input_tokens: 3,
      output_tokens: 4,
      cache_read_input_tokens: 5,
      cache_creation_input_tokens: 6,
      cache_creation: { ephemeral_1h_input_tokens: 7, ephemeral_5m_input_tokens: 8 },
      server_tool_use: { web_search_requests: 0 },
    };
    const monitor = await RawConnection.open(daemon.socketPath);
    await monitor.request({ event: 'monitor:subscribe', data: { patterns: ['state:set'] } });
    await send('state:set', { key: 'usage-sample', value: { usage, api_key: 'sk-secret' } });
    const [pushed] = await monitor.read(1);
    expect(pushed.data.data.value).toEqual({ usage, api_key: '[redacted]' });
    monitor.close();
    const logged = await eventually(async () => (await send('monitor:get_events', { patterns: ['state:set'] })).events?.[0]);
    expect(logged.data.value).toEqual({ usage, api_key: '[redacted]' });
    const results = await eventually(async () => (await send('monitor:get_events', { patterns: ['completion:result'], limit: 1 })).events?.[0]);
    expect(results.data.result.response.usage).toMatchObject({ input_tokens: expect.any(Number), output_tokens: expect.any(Number), cache_read_input_tokens: expect.any(Number) });
  });

  it('lets the operator and trusted agents read cost:summary; other shipped profiles read their own costs through agent:info', async () => {
    const identified = async (agentId: string, profile: string) => {
      await send('permission:set_agent', { agent_id: agentId, profile });
      const { token } = await send('permission:issue_token', { agent_id: agentId });
      const connection = await RawConnection.open(daemon.socketPath);
      expect((await connection.request({ event: 'system:identify', data: { agent_id: agentId, token } })).data).toMatchObject({ identified: true });
      return connection;
    };
    for (const profile of ['restricted', 'researcher', 'standard']) {
      const agent = await identified(`reader-${profile}`, profile);
      expect(await agent.request({ event: 'cost:summary', data: { by: 'agent' } })).toMatchObject({ code: 'permission_denied' });
      agent.close();
    }
    const trusted = await identified('reader-trusted', 'trusted');
    expect((await trusted.request({ event: 'cost:summary', data: { by: 'agent' } })).data).toMatchObject({ by: 'agent', totals: { requests: 7 } });
    trusted.close();
  });
});
