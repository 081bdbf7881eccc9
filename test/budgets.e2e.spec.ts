import type { KsiClient } from '../libs/client/src';
import { CompletionWatcher, fakeClaudeDaemon, optionValues, type Invocation } from './support/completions';
import { eventually } from './support/daemon-process';
import { ksi } from './support/ksi-cli';
import { RawConnection } from './support/raw-connection';

describe('budgets with the fake Claude CLI', () => {
  const daemon = fakeClaudeDaemon();
  let client: KsiClient;
  let monitor: KsiClient;
  let watcher: CompletionWatcher;
  /** What monitor:subscribe {patterns: ['budget:*']} streamed. */
  const monitored: { event_name: string; data: Record<string, any> }[] = [];
  /** budget:exhausted lines pushed to `client`. */
  const pushed: Record<string, any>[] = [];

  const send = (event: string, data: Record<string, unknown> = {}) => client.sendSingle(event, data) as Promise<Record<string, any>>;
  const info = (agentId: string) => send('agent:info', { agent_id: agentId });
  /** The fake's runs of the turns whose prompt names `task`, in order. */
  const turnsOf = (task: string): Invocation[] => daemon.invocations().filter((run) => run.stdin.includes(task));

  beforeAll(async () => {
    await daemon.start();
    client = daemon.client();
    watcher = new CompletionWatcher(client);
    client.subscribe('budget:exhausted', (line) => pushed.push(line.data as Record<string, any>));
    monitor = daemon.client();
    monitor.subscribe('monitor:event', (line) => monitored.push(line.data as { event_name: string; data: Record<string, any> }));
    await monitor.sendSingle('monitor:subscribe', { patterns: ['budget:*'] });
  });
  afterAll(async () => {
    await client?.close();
    await monitor?.close();
    await daemon.dispose();
  });

  it('refuses a budget without its target, with a target it cannot have, or below zero, naming the field', async () => {
    await expect(send('budget:set', { scope: 'agent', limit_usd: 1 })).rejects.toMatchObject({ code: 'invalid_params', details: [{ path: 'id', message: expect.stringContaining('Required for scope agent') }] });
    await expect(send('budget:set', { scope: 'global', id: 'x', limit_usd: 1 })).rejects.toMatchObject({ code: 'invalid_params', details: [{ path: 'id', message: expect.stringContaining('not allowed for scope global') }] });
    await expect(send('budget:set', { scope: 'agent', id: 'a', limit_usd: -1 })).rejects.toMatchObject({ code: 'invalid_params', details: [{ path: 'limit_usd' }] });
    await expect(send('budget:set', { scope: 'team', id: 'a', limit_usd: 1 })).rejects.toMatchObject({ code: 'invalid_params', details: [{ path: 'scope' }] });
    await expect(send('budget:set', { scope: 'agent', id: 'a', limit_usd: 1, period: 'week' })).rejects.toMatchObject({ code: 'invalid_params', details: [{ path: 'period' }] });
    expect(await send('budget:status', { scope: 'agent', id: 'nobody' })).toEqual({ code: 'not_found', error: 'No agent budget for nobody; set one with budget:set' });
    expect(await send('budget:list')).toEqual({ budgets: [] });
  });

  it('stops an agent after the turn that spends its budget, keeps its next message, and resumes it when the budget is raised', async () => {
    await send('agent:spawn', { profile: 'conversationalist', agent_id: 'spender' });
    expect(await send('budget:set', { scope: 'agent', id: 'spender', limit_usd: 1 })).toMatchObject({ scope: 'agent', id: 'spender', limit_usd: 1, period: 'total', spent_usd: 0, remaining_usd: 1, exhausted: false });
    for (const n of [1, 2, 3, 4]) await send('agent:send_message', { agent_id: 'spender', message: { prompt: `[[cost:0.40]] task ${n}` } });

    const stopped = await eventually(async () => ((await info('spender')).status === 'budget_exhausted' ? info('spender') : undefined), 30_000, 'the agent stopped by its budget');
    // Each turn's cap is what the budget had left; the third reached its $0.20 and the CLI stopped it there.
    expect(turnsOf('task').map((run) => [run.stdin.match(/task \d/)?.[0], optionValues(run.argv, '--max-budget-usd')])).toEqual([
      ['task 1', ['1']],
      ['task 2', ['0.6']],
      ['task 3', ['0.2']],
    ]);
    expect(stopped).toMatchObject({ pending_messages: 1, failed_messages: 1 });
    expect(await send('budget:status', { scope: 'agent', id: 'spender' })).toMatchObject({ spent_usd: 1.2, remaining_usd: 0, exhausted: true, period_end: null });
    await eventually(() => monitored.some((line) => line.event_name === 'budget:exhausted' && line.data.agent_id === 'spender' && line.data.spent_usd === 1.2), 10_000, 'budget:exhausted in the monitor');

    await send('budget:set', { scope: 'agent', id: 'spender', limit_usd: 2 });
    await eventually(async () => {
      const now = await info('spender');
      return now.status === 'idle' && now.pending_messages === 0;
    }, 30_000, 'the fourth message answered after the raise');
    expect(turnsOf('task 4').map((run) => optionValues(run.argv, '--max-budget-usd'))).toEqual([['0.8']]);
    expect(await send('budget:status', { scope: 'agent', id: 'spender' })).toMatchObject({ spent_usd: 1.6, remaining_usd: 0.4, exhausted: false });
  });

  it('refuses a completion over the global budget without running it, and tells its sender which budget', async () => {
    const { spent_usd } = await send('budget:set', { scope: 'global', limit_usd: 0 });
    const runsBefore = daemon.invocations().length;
    const { request_id } = await send('completion:async', { prompt: 'over budget', model: 'claude-cli/sonnet' });
    const end = await watcher.end(request_id);
    expect(end).toMatchObject({ event: 'completion:error', data: { code: 'budget_exhausted', attempts: 0, error: expect.stringContaining('global budget ($0) is spent') } });
    expect(pushed).toEqual([expect.objectContaining({ request_id, scope: 'global', id: null, exhausted: true, spent_usd })]);
    expect(await send('completion:status', { request_id })).toMatchObject({ status: 'failed', attempts: 0 });
    expect(daemon.invocations()).toHaveLength(runsBefore);

    expect(await send('budget:remove', { scope: 'global' })).toEqual({ removed: true });
    expect(await send('budget:remove', { scope: 'global' })).toEqual({ removed: false });
    const { request_id: second } = await send('completion:async', { prompt: 'within budget', model: 'claude-cli/sonnet' });
    expect((await watcher.end(second)).event).toBe('completion:result');
  });

  it('lets a trusted agent read budgets but never set or remove one, its own included', async () => {
    await send('permission:set_agent', { agent_id: 'ambitious', profile: 'trusted' });
    await send('budget:set', { scope: 'agent', id: 'ambitious', limit_usd: 1 });
    const { token } = await send('permission:issue_token', { agent_id: 'ambitious' });
    const agent = await RawConnection.open(daemon.socketPath);
    try {
      expect((await agent.request({ event: 'system:identify', data: { agent_id: 'ambitious', token } })).data).toMatchObject({ identified: true });
      expect((await agent.request({ event: 'budget:status', data: { scope: 'agent', id: 'ambitious' } })).data).toMatchObject({ limit_usd: 1 });
      expect(await agent.request({ event: 'budget:set', data: { scope: 'agent', id: 'ambitious', limit_usd: 1000 } })).toMatchObject({ code: 'permission_denied' });
      expect(await agent.request({ event: 'budget:remove', data: { scope: 'agent', id: 'ambitious' } })).toMatchObject({ code: 'permission_denied' });
    } finally {
      agent.close();
    }
    expect(await send('budget:status', { scope: 'agent', id: 'ambitious' })).toMatchObject({ limit_usd: 1 });
    expect(await send('budget:remove', { scope: 'agent', id: 'ambitious' })).toEqual({ removed: true });
  });

  it('ksi budget sets, lists and shows budgets, and refuses a bad scope, id or amount as a usage error', async () => {
    const socket = ['--socket', daemon.socketPath];
    const set = await ksi(['budget', 'set', 'profile', 'conversationalist', '--limit', '5', '--period', 'month', ...socket]);
    expect(set).toMatchObject({ code: 0, stdout: expect.stringMatching(/profile\s+conversationalist\s+month\s+\$5\.0000\s+\$1\.6000\s+\$3\.4000\s+ok/) });
    const list = await ksi(['budget', 'list', ...socket]);
    expect(list.stdout).toMatch(/agent\s+spender\s+total\s+\$2\.0000/);
    expect(list.stdout).toMatch(/profile\s+conversationalist\s+month/);
    expect((await ksi(['budget', 'status', 'agent', 'nobody', ...socket])).code).toBe(1);
    for (const [args, says] of [
      [['set', 'global', 'x', '--limit', '1'], 'takes no id'],
      [['set', 'agent', '--limit', '1'], 'needs the agent id'],
      [['set', 'team', 'a', '--limit', '1'], 'must be one of agent, profile, global'],
      [['set', 'agent', 'a', '--limit', 'lots'], '--limit must be an amount'],
      [['set', 'agent', 'a', '--limit', '1', '--period', 'week'], '--period must be one of'],
    ]) {
      const run = await ksi(['budget', ...(args as string[]), ...socket]);
      expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 2, stderr: expect.stringContaining(says as string) });
    }
  });
});
