import * as fs from 'node:fs';
import * as path from 'node:path';
import { CompletionWatcher, optionValues, useFakeClaudeDaemon } from './support/completions';
import { RawConnection } from './support/raw-connection';

describe('permissions, sandboxes and agent identity (real daemon)', () => {
  const { daemon, send } = useFakeClaudeDaemon();

  it('ships the four profiles', async () => {
    const { profiles } = await send('permission:list_profiles');
    expect(Object.keys(profiles).sort()).toEqual(['researcher', 'restricted', 'standard', 'trusted']);
    expect(profiles.restricted.tools).toEqual({ allowed: ['Read', 'Grep', 'Glob', 'LS'], disallowed: ['Bash', 'Write', 'Edit', 'MultiEdit', 'WebFetch', 'WebSearch', 'Task'] });
    expect(profiles.trusted.tools.allowed).toBeNull();
  });

  it('sets agent permissions from a profile with overrides', async () => {
    const set = await send('permission:set_agent', { agent_id: 'reader', profile: 'restricted', overrides: { tools: { allowed_add: ['WebFetch'] } } });
    expect(set.effective_tools).toEqual(['Read', 'Grep', 'Glob', 'LS']);
    const extended = await send('permission:set_agent', { agent_id: 'reader2', profile: 'standard', overrides: { tools: { allowed_remove: ['Write'] }, capabilities: { spawn_agents: true } } });
    expect(extended.effective_tools).not.toContain('Write');
    expect(extended.permissions.capabilities.spawn_agents).toBe(true);
    expect((await send('permission:get_agent', { agent_id: 'reader' })).permissions.level).toBe('restricted');
    expect(await send('permission:get_agent', { agent_id: 'nobody' })).toMatchObject({ code: 'not_found' });
    expect(await send('permission:get_profile', { level: 'superuser' })).toMatchObject({ code: 'not_found' });
  });

  it('never gives a child more than its parent', async () => {
    await send('permission:set_agent', { agent_id: 'boss', profile: 'trusted' });
    await send('permission:set_agent', { agent_id: 'worker', profile: 'standard' });
    expect(await send('permission:validate_spawn', { parent_id: 'boss', child_profile: 'restricted' })).toMatchObject({ valid: true });
    const fromWorker = await send('permission:validate_spawn', { parent_id: 'worker', child_profile: 'restricted' });
    expect(fromWorker).toMatchObject({ valid: false, problems: [expect.stringContaining('may not spawn')] });
    await send('permission:set_agent', { agent_id: 'small-boss', profile: 'trusted', overrides: { tools: { disallowed_add: ['Bash'] } } });
    const more = await send('permission:set_agent', { agent_id: 'big-child', profile: 'trusted', parent_id: 'small-boss' });
    expect(more).toMatchObject({ code: 'permission_denied', error: expect.stringContaining('Bash') });
  });

  it('creates isolated, shared and nested sandboxes, and removes nested ones only with force', async () => {
    const isolated = (await send('sandbox:create', { agent_id: 'sb-parent' })).sandbox;
    expect(isolated.path).toBe(path.join(daemon.varDir, 'sandbox', 'agents', 'sb-parent'));
    for (const sub of ['workspace', 'shared', 'exports', '.claude']) expect(fs.existsSync(path.join(isolated.path, sub))).toBe(true);
    const nested = (await send('sandbox:create', { agent_id: 'sb-child', config: { mode: 'nested', parent_agent_id: 'sb-parent' } })).sandbox;
    expect(nested.path).toBe(path.join(isolated.path, 'nested', 'sb-child'));
    expect(fs.readlinkSync(path.join(nested.path, 'parent'))).toBe(isolated.workspace);
    const shared = (await send('sandbox:create', { agent_id: 'sb-shared', config: { mode: 'shared', session_id: 'team-1' } })).sandbox;
    expect(shared.path).toBe(path.join(daemon.varDir, 'sandbox', 'shared', 'team-1'));
    expect(await send('sandbox:create', { agent_id: '../escape' })).toMatchObject({ code: 'invalid_params' });
    expect(await send('sandbox:remove', { agent_id: 'sb-parent' })).toMatchObject({ code: 'invalid_state' });
    expect(await send('sandbox:remove', { agent_id: 'sb-parent', force: true })).toMatchObject({ removed: true });
    expect(fs.existsSync(isolated.path)).toBe(false);
    expect((await send('sandbox:stats')).stats).toMatchObject({ shared: 1, nested: 0 });
  });

  it('lets a connection identify with its token and then only send what its profile allows', async () => {
    await send('permission:set_agent', { agent_id: 'limited', profile: 'restricted' });
    const { token } = await send('permission:issue_token', { agent_id: 'limited' });
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const agent = await RawConnection.open(daemon.socketPath);
    expect((await agent.request({ event: 'system:identify', data: { agent_id: 'limited', token: 'wrong' } })).data).toMatchObject({ code: 'permission_denied' });
    expect((await agent.request({ event: 'system:identify', data: { agent_id: 'limited', token } })).data).toMatchObject({ identified: true, level: 'restricted' });
    expect((await agent.request({ event: 'state:get', data: { key: 'x' } })).data).toMatchObject({ found: false });
    const refused = await agent.request({ event: 'state:set', data: { key: 'x', value: 1 }, correlation_id: 'no' });
    expect(refused).toMatchObject({ event: 'state:set', code: 'permission_denied', correlation_id: 'no', error: expect.stringContaining('limited is not allowed to send state:set') });
    expect((await agent.request({ event: 'system:shutdown' })).code).toBe('permission_denied');
    // The operator's connection is not affected, and a removed agent's token dies with it.
    expect(await send('state:set', { key: 'x', value: 2 })).toMatchObject({ status: 'set' });
    await send('permission:remove_agent', { agent_id: 'limited' });
    expect((await agent.request({ event: 'state:get', data: { key: 'x' } })).code).toBe('permission_denied');
    const again = await RawConnection.open(daemon.socketPath);
    expect((await again.request({ event: 'system:identify', data: { agent_id: 'limited', token } })).data).toMatchObject({ code: 'permission_denied' });
    agent.close();
    again.close();
  });

  it("runs a restricted agent's completions with its tool flags, in its sandbox", async () => {
    await send('permission:set_agent', { agent_id: 'cautious', profile: 'restricted', overrides: { events: { allowed_add: ['completion:async'] } } });
    const sandbox = (await send('sandbox:create', { agent_id: 'cautious' })).sandbox;
    const { token } = await send('permission:issue_token', { agent_id: 'cautious' });
    const agent = daemon.client();
    const watcher = new CompletionWatcher(agent);
    await agent.sendSingle('system:identify', { agent_id: 'cautious', token });
    const { request_id } = (await agent.sendSingle('completion:async', { prompt: 'careful now', allowed_tools: ['Read', 'Bash'], agent_id: 'someone-else' })) as { request_id: string };
    await watcher.end(request_id);
    const invocation = daemon.invocations().find((entry) => entry.stdin === 'careful now');
    expect(invocation?.cwd).toBe(sandbox.workspace);
    const argv = invocation?.argv ?? [];
    expect(optionValues(argv, '--allowedTools')).toEqual(['Read']);
    expect(optionValues(argv, '--disallowedTools')).toEqual(['Bash', 'Write', 'Edit', 'MultiEdit', 'WebFetch', 'WebSearch', 'Task']);
    expect(((await send('completion:status', { request_id })) as Record<string, any>).request_id).toBe(request_id);
    await agent.close();
  });
});
