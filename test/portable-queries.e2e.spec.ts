import { AgentMessageRepository } from '../src/modules/agent/agent-message.repository';
import { AgentRepository } from '../src/modules/agent/agent.repository';
import { CheckpointRepository } from '../src/modules/checkpoint/checkpoint.repository';
import { CompletionRepository } from '../src/modules/completion/completion.repository';
import { CostRepository } from '../src/modules/completion/cost.repository';
import { CompositionRepository, type DiscoverFilter } from '../src/modules/composition/composition.repository';
import { BusMessageRepository } from '../src/modules/message/bus-message.repository';
import { AgentPermissionRepository } from '../src/modules/permission/agent-permission.repository';
import { SandboxRepository } from '../src/modules/permission/sandbox.repository';
import { startInProcess, type InProcessDaemon } from './support/in-process-daemon';

// Queries the event-level suites do not reach on both backends: history pruning, every discover
// filter, checkpoint pruning and byte order. The same answers are expected from SQLite and PostgreSQL.
describe('permission, sandbox, composition, checkpoint, bus message, agent inbox and cost repositories (in process, real database)', () => {
  let daemon: InProcessDaemon;
  beforeAll(async () => (daemon = await startInProcess()));
  afterAll(() => daemon.close());

  it('keeps bus messages in publishing order, prunes delivered history and counts inboxes', async () => {
    const repo = daemon.app.get(BusMessageRepository);
    await repo.record({ id: 'm1', type: 'T', body: '{"a":1}', recipient: 'r1', createdAt: 1 });
    await repo.record({ id: 'm2', type: 'T', body: '{"a":2}', recipient: null, createdAt: 2 });
    await repo.record({ id: 'm3', type: 'T', body: '{"a":3}', recipient: 'r1', createdAt: 3 });
    await repo.record({ id: 'm4', type: 'T', body: '{"a":4}', recipient: 'r2', createdAt: 4 }, 0);
    expect(await repo.count()).toBe(3);
    expect(await repo.pendingCounts()).toMatchObject({ r1: 2, r2: 1 });
    expect(await repo.takePending('r1', 5)).toEqual([{ id: 'm1', body: '{"a":1}' }, { id: 'm3', body: '{"a":3}' }]);
    // Taken once: a second taker (another node) finds nothing.
    expect(await repo.takePending('r1', 5)).toEqual([]);
    await repo.putBack(['m3']);
    expect(await repo.pendingCounts()).toMatchObject({ r1: 1, r2: 1 });
    expect(await repo.takePending('r1', 6)).toEqual([{ id: 'm3', body: '{"a":3}' }]);
    expect(await repo.bodyOf('m4')).toBe('{"a":4}');
    await repo.record({ id: 'm5', type: 'T', body: '{}', recipient: null, createdAt: 6 }, 1);
    expect(await repo.count()).toBe(2);
  });

  it('lists compositions in byte order and discovers by every filter', async () => {
    const repo = daemon.app.get(CompositionRepository);
    const entry = (type: string, name: string, tags: string[], capabilities: string[], role: string | null = null) => ({
      type, name, version: '1', description: 'd', author: null, extends: null, role, tags: JSON.stringify(tags), capabilities: JSON.stringify(capabilities), source: 'file', filePath: null, indexedAt: 1,
    });
    // The later of two entries with one type and name wins, as INSERT OR REPLACE had it.
    await repo.replaceIndex([entry('profile', 'b_x', ['t1'], ['c1', 'c2'], 'r'), entry('profile', 'B_y', [], ['c1']), entry('agent', 'a', ['t1', 't2'], []), entry('profile', 'b_x', ['t9'], ['c1', 'c2'], 'r')]);
    expect((await repo.list()).map((found) => `${found.type}/${found.name}`)).toEqual(['agent/a', 'profile/B_y', 'profile/b_x']);
    expect((await repo.list('profile')).map((found) => found.name)).toEqual(['B_y', 'b_x']);
    const names = async (filter: Partial<DiscoverFilter>) =>
      (await repo.discover({ type: null, name: null, role: null, capabilities: '[]', tags: '[]', ...filter })).map((found) => found.name);
    expect(await names({})).toEqual(['a', 'B_y', 'b_x']);
    expect(await names({ capabilities: '["c1"]' })).toEqual(['B_y', 'b_x']);
    expect(await names({ capabilities: '["c1","c2"]' })).toEqual(['b_x']);
    expect(await names({ tags: '["t9"]' })).toEqual(['b_x']);
    expect(await names({ tags: '["t1"]' })).toEqual(['a']);
    expect(await names({ name: '_' })).toEqual(['B_y', 'b_x']);
    expect(await names({ name: 'b' })).toEqual(['b_x']);
    expect(await names({ name: '' })).toEqual(['a', 'B_y', 'b_x']);
    expect(await names({ role: 'r', type: 'profile' })).toEqual(['b_x']);
    await repo.saveDynamic('d', '{"x":1}', 1);
    await repo.saveDynamic('d', '{"x":2}', 2);
    expect(await repo.dynamicBodies()).toEqual(['{"x":2}']);
  });

  it('keeps the newest checkpoints and finds the newest unconsumed', async () => {
    const repo = daemon.app.get(CheckpointRepository);
    const ids: number[] = [];
    for (let i = 0; i < 4; i++) ids.push(await repo.save(10 + i, 'manual', `{"i":${i}}`, 2));
    expect(ids[3]).toBeGreaterThan(ids[2]);
    expect(typeof ids[0]).toBe('number');
    expect(await repo.newest(false)).toEqual({ id: ids[3], createdAt: 13, reason: 'manual', data: '{"i":3}' });
    await repo.consume(ids[3], 20, '{}');
    expect(await repo.newest(true)).toEqual({ id: ids[2], createdAt: 12, reason: 'manual', data: '{"i":2}' });
    await repo.consume(ids[2], 20, '{}');
    expect(await repo.newest(true)).toBeUndefined();
  });

  it('stores sandboxes oldest first and keeps a token across a permissions change', async () => {
    const sandboxes = daemon.app.get(SandboxRepository);
    await sandboxes.insert({ agentId: 's2', path: '/p2', mode: 'isolated', parentAgentId: null, sessionId: null, gitDir: null, createdAt: 2.5 });
    await sandboxes.insert({ agentId: 's1', path: '/p1', mode: 'nested', parentAgentId: 's2', sessionId: 'x', gitDir: '/g', createdAt: 1 });
    expect((await sandboxes.all()).map((sandbox) => sandbox.agentId)).toEqual(['s1', 's2']);
    expect(await sandboxes.find('s2')).toEqual({ agentId: 's2', path: '/p2', mode: 'isolated', parentAgentId: null, sessionId: null, gitDir: null, createdAt: 2.5 });
    await sandboxes.delete('s2');
    expect(await sandboxes.find('s2')).toBeUndefined();
    const permissions = daemon.app.get(AgentPermissionRepository);
    await permissions.save({ agentId: 'p1', level: 'l', permissions: '{}', parentId: null }, 1);
    await permissions.setTokenHash('p1', 'h');
    await permissions.save({ agentId: 'p1', level: 'l2', permissions: '{"a":1}', parentId: 'q' }, 2);
    expect((await permissions.all()).find((row) => row.agentId === 'p1')).toEqual({ agentId: 'p1', level: 'l2', permissions: '{"a":1}', parentId: 'q', tokenHash: 'h' });
    expect(await permissions.delete('p1')).toBe(true);
    expect(await permissions.delete('p1')).toBe(false);
  });

  it('adds up what was spent since a time: finished requests by when they finished, the others by when their last attempt started', async () => {
    const requests = daemon.app.get(CompletionRepository);
    const costs = daemon.app.get(CostRepository);
    // Due long after the real time: the daemon's own processor never claims these.
    const due = 4e15;
    /** A request of this agent and profile whose attempt started at `startedAt` and cost `usd`; it stays claimed. */
    const attempted = async (id: string, agentId: string, profile: string, startedAt: number, usd: number) => {
      await requests.insert({ requestId: id, status: 'queued', queueKey: `spent-${id}`, sessionId: null, priority: 1, model: 'sonnet', payload: '{}', attempts: 0, maxAttempts: 3, nextAttemptAt: due, clientId: null, agentId, queuedAt: 1, account: 'claude-cli', profile, cause: null });
      const [row] = (await requests.claim(due, due + 60_000, 1)) ?? [];
      expect(row?.requestId).toBe(id);
      expect(await requests.start(row, startedAt)).toBe(true);
      await costs.record(id, { cost_usd: usd, usage: { input_tokens: 0, output_tokens: 0, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 }, num_turns: 1, duration_api_ms: 0 });
      return row;
    };
    expect(await requests.complete(await attempted('finished-since', 'spender-x', 'spending', 500, 1), '{}', undefined, undefined, 1500)).toBe(true);
    expect(await requests.fail(await attempted('finished-before', 'spender-x', 'spending', 500, 2), 'failed', 'no', 'cli_failed', 900)).toBe(true);
    expect(await requests.retry(await attempted('retrying-since', 'spender-y', 'spending', 1200, 4), 2 * due, 'again', 'cli_failed')).toBe(true);
    expect(await requests.retry(await attempted('retrying-before', 'spender-y', 'spending', 800, 8), 2 * due, 'again', 'cli_failed')).toBe(true);
    expect(await costs.spent(1000, {})).toBe(5);
    expect(await costs.spent(1000, { agent_id: 'spender-x' })).toBe(1);
    expect(await costs.spent(1000, { agent_id: 'spender-y' })).toBe(4);
    expect(await costs.spent(1000, { profile: 'spending' })).toBe(5);
    expect(await costs.spent(0, { profile: 'spending' })).toBe(15);
    expect(await costs.spent(0, { profile: 'other' })).toBe(0);
  });

  // Terminating stops the agent before it ends its requests and deletes it: a turn that fails in
  // between (its request refused, or cancelled) must neither fail the agent, which would schedule a
  // restart for the agent respawned with the same id, nor make it idle, which would start its next turn.
  it('a turn that fails once its agent is stopped leaves it stopped', async () => {
    const agents = daemon.app.get(AgentRepository);
    const messages = daemon.app.get(AgentMessageRepository);
    await agents.insert({ agentId: 'leaving', profile: 'p', status: 'idle', sessionId: 's', config: '{}', sandboxDir: null, mcpConfigPath: null, restarts: 0, createdAt: 1 });
    for (const agent of ['failed', 'idle'] as const) {
      const id = await messages.enqueue('leaving', '{"prompt":"hi"}', 2);
      expect(await messages.claim(id, 'leaving', `turn-${agent}`)).toBe(true);
      await agents.setStatus('leaving', 'stopped');
      expect(await messages.failTurn(id, `turn-${agent}`, 'leaving', { error: 'refused', code: 'storage_unavailable', agent }, 3)).toEqual({ settled: true, agentFailed: false, sessionForgotten: false });
      expect(await agents.find('leaving')).toMatchObject({ status: 'stopped', restarts: 0 });
      await agents.setStatus('leaving', 'idle');
    }
  });
});
