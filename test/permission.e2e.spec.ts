import * as fs from 'node:fs';
import * as path from 'node:path';
import { CompletionWatcher, optionValues, useFakeClaudeDaemon } from './support/completions';
import { eventually } from './support/daemon-process';
import { RawConnection } from './support/raw-connection';

describe('permissions, sandboxes and agent identity (real daemon)', () => {
  const { daemon, send } = useFakeClaudeDaemon();

  it('ships the five profiles', async () => {
    const { profiles } = await send('permission:list_profiles');
    expect(Object.keys(profiles).sort()).toEqual(['researcher', 'restricted', 'standard', 'supervised', 'trusted']);
    expect(profiles.restricted.tools.allowed).toEqual(['Read', 'Glob', 'Grep', 'ToolSearch']);
    expect(profiles.restricted.tools.disallowed).toEqual(expect.arrayContaining(['Bash', 'Edit', 'Write', 'NotebookEdit', 'WebFetch', 'WebSearch', 'Task', 'Cron*']));
    expect(profiles.trusted.tools.allowed).toBeNull();
  });

  it('sets agent permissions from a profile with overrides', async () => {
    const set = await send('permission:set_agent', { agent_id: 'reader', profile: 'restricted', overrides: { tools: { allowed_add: ['WebFetch'] } } });
    expect(set.effective_tools).toEqual(['Read', 'Glob', 'Grep', 'ToolSearch', 'mcp__ksi']);
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
    await send('permission:set_agent', { agent_id: 'narrow-boss', profile: 'standard', overrides: { capabilities: { spawn_agents: true } } });
    const louder = await send('permission:set_agent', { agent_id: 'loud-child', profile: 'standard', parent_id: 'narrow-boss', overrides: { events: { allowed_add: ['agent:spawn'] } } });
    expect(louder).toMatchObject({ code: 'permission_denied', error: expect.stringContaining('events the parent may not send: agent:spawn') });
    const { profile: restricted } = await send('permission:get_profile', { level: 'restricted' });
    const wider = await send('permission:validate_spawn', { parent_id: 'boss', child_permissions: { ...restricted, state: { namespaces: ['shared:*', 'global'] } } });
    expect(wider).toMatchObject({ valid: false, problems: [expect.stringContaining('state namespaces the parent is not granted: global')] });
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
    await expect(send('sandbox:create', { agent_id: '../escape' })).rejects.toMatchObject({ code: 'invalid_params' });
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
    await agent.whenClosed();
    const again = await RawConnection.open(daemon.socketPath);
    expect((await again.request({ event: 'system:identify', data: { agent_id: 'limited', token } })).data).toMatchObject({ code: 'permission_denied' });
    agent.close();
    again.close();
  });

  /** A connection identified as the agent, with a token the operator issued. */
  const identified = async (agentId: string): Promise<RawConnection> =>
    RawConnection.identified(daemon.socketPath, agentId, (await send('permission:issue_token', { agent_id: agentId })).token);

  it('keeps permission changes and tokens for the operator, or for an agent with spawn_agents over its own children', async () => {
    await send('permission:set_agent', { agent_id: 'boss-x', profile: 'trusted', overrides: { tools: { disallowed_add: ['Bash'] } } });
    await send('permission:set_agent', { agent_id: 'bystander', profile: 'standard' });
    const boss = await identified('boss-x');
    const refusals: [string, Record<string, unknown>][] = [
      ['permission:set_agent', { agent_id: 'boss-x', profile: 'trusted' }],
      ['permission:set_agent', { agent_id: 'bystander', profile: 'restricted' }],
      ['permission:issue_token', { agent_id: 'bystander' }],
      ['permission:remove_agent', { agent_id: 'bystander' }],
      ['permission:issue_token', { agent_id: 'boss-x' }],
      ['mcp:agent_config', { agent_id: 'bystander' }],
      ['sandbox:remove', { agent_id: 'bystander' }],
      ['agent:spawn', { profile: 'base_agent', agent_id: 'stolen-kid', parent_id: 'bystander' }],
    ];
    for (const [event, data] of refusals) {
      const reply = await boss.request({ event, data });
      expect({ event, data, code: reply.code ?? reply.data?.code }).toEqual({ event, data, code: 'permission_denied' });
    }
    expect((await send('permission:get_agent', { agent_id: 'boss-x' })).permissions.tools.disallowed).toContain('Bash');
    expect((await send('permission:get_agent', { agent_id: 'bystander' })).permissions.level).toBe('standard');

    // Its own child: spawned through agent:spawn, never above the parent, managed by it alone.
    const spawned = await boss.request({ event: 'agent:spawn', data: { profile: 'base_agent', agent_id: 'kid-x', permission_profile: 'restricted' } });
    expect(spawned.data).toMatchObject({ agent_id: 'kid-x', permission_profile: 'restricted' });
    expect((await boss.request({ event: 'agent:spawn', data: { profile: 'base_agent', agent_id: 'big-kid', permission_profile: 'trusted' } })).data).toMatchObject({
      code: 'permission_denied',
      error: expect.stringContaining('Bash'),
    });
    expect((await boss.request({ event: 'permission:set_agent', data: { agent_id: 'kid-x', profile: 'trusted' } })).data).toMatchObject({ code: 'permission_denied' });
    expect((await boss.request({ event: 'permission:set_agent', data: { agent_id: 'kid-x', profile: 'researcher' } })).data).toMatchObject({ permissions: { level: 'researcher' } });
    expect((await boss.request({ event: 'permission:issue_token', data: { agent_id: 'kid-x' } })).data).toMatchObject({ token: expect.any(String) });
    expect((await boss.request({ event: 'agent:terminate', data: { agent_id: 'kid-x' } })).data).toMatchObject({ status: 'terminated' });
    boss.close();
  });

  it("ends an agent's connections when it is terminated, so a new agent of the same id is not inherited", async () => {
    await send('agent:spawn', { profile: 'base_agent', agent_id: 'phoenix', permission_profile: 'restricted' });
    const old = await identified('phoenix');
    expect((await old.request({ event: 'state:set', data: { key: 'k', value: 1 } })).code).toBe('permission_denied');
    const { token: reissued } = await send('permission:issue_token', { agent_id: 'phoenix' });
    await old.whenClosed();
    const second = await RawConnection.open(daemon.socketPath);
    expect((await second.request({ event: 'system:identify', data: { agent_id: 'phoenix', token: reissued } })).data).toMatchObject({ identified: true });

    await send('agent:terminate', { agent_id: 'phoenix' });
    await send('agent:spawn', { profile: 'base_agent', agent_id: 'phoenix', permission_profile: 'trusted' });
    await second.whenClosed();
    const stale = await RawConnection.open(daemon.socketPath);
    expect((await stale.request({ event: 'system:identify', data: { agent_id: 'phoenix', token: reissued } })).data).toMatchObject({ code: 'permission_denied' });
    stale.close();
  });

  it('answers an agent that terminates itself, then ends its connection without waiting for the client', async () => {
    await send('agent:spawn', { profile: 'base_agent', agent_id: 'quitter', permission_profile: 'trusted' });
    const quitter = await identified('quitter');
    // The client keeps its own half open: only the daemon can end this connection.
    quitter.socket.allowHalfOpen = true;
    quitter.send({ event: 'agent:terminate', data: { agent_id: 'quitter' } });
    const [reply] = await quitter.read(1);
    expect(reply).toMatchObject({ event: 'agent:terminate', data: { agent_id: 'quitter', status: 'terminated' } });
    await eventually(() => quitter.socket.readableEnded, 10_000, 'the daemon to end the connection');
    quitter.close();
    expect((await send('agent:list')).agents.map((agent: { agent_id: string }) => agent.agent_id)).not.toContain('quitter');
  });

  it("never lets an agent's child into another agent's shared sandbox or session", async () => {
    await send('agent:spawn', { profile: 'base_agent', agent_id: 'victim', permission_profile: 'standard' });
    await send('agent:spawn', { profile: 'base_agent', agent_id: 'spawner', permission_profile: 'trusted' });
    const spawner = await identified('spawner');
    const spawn = (data: Record<string, unknown>) => spawner.request({ event: 'agent:spawn', data: { profile: 'base_agent', permission_profile: 'restricted', ...data } });
    // Refused by the request guard (a request error) or by the handler (an application error in data).
    const refusal = (reply: Record<string, any>) => reply.code ?? reply.data?.code;
    expect(refusal(await spawn({ agent_id: 'mole-2', sandbox_config: { mode: 'shared', session_id: 'victims-session' } }))).toBe('permission_denied');
    expect(refusal(await spawn({ agent_id: 'mole-3', session_id: 'victims-session' }))).toBe('permission_denied');
    const agents = (await send('agent:list')).agents.map((agent: { agent_id: string }) => agent.agent_id);
    expect(agents.filter((id: string) => id.startsWith('mole-'))).toEqual([]);
    expect((await spawn({ agent_id: 'own-child' })).data).toMatchObject({ agent_id: 'own-child' });
    spawner.close();
  });

  it("lets an agent's message become another agent's turn only when it holds every right that turn runs with, or the recipient's profile accepts it", async () => {
    await send('agent:spawn', { profile: 'base_agent', agent_id: 'chief', permission_profile: 'trusted', config: { capabilities: ['auditing', 'signing'] } });
    const messaging = { events: { allowed_add: ['agent:send_message', 'agent:broadcast'] } };
    await send('agent:spawn', { profile: 'base_agent', agent_id: 'aide', permission_profile: 'restricted', parent_id: 'chief' });
    await send('permission:set_agent', { agent_id: 'aide', profile: 'restricted', parent_id: 'chief', overrides: messaging });
    await send('agent:spawn', { profile: 'base_agent', agent_id: 'clerk', permission_profile: 'restricted', config: { capabilities: ['auditing'] } });
    await send('permission:set_agent', { agent_id: 'clerk', profile: 'restricted', overrides: messaging });
    const answered = (prompt: string) => daemon.answered().filter((entry) => entry.stdin === prompt).length;
    const aide = await identified('aide');
    const fromAide = async (event: string, data: Record<string, unknown>) => (await aide.request({ event, data })) as Record<string, any>;

    // Every way of reaching the chief's turns is refused, naming what the aide lacks and what would admit it.
    const refused = {
      code: 'permission_denied',
      error: expect.stringMatching(/^Agent aide may not message agent chief: .*tools aide lacks: .*Bash.*\(trusted\) takes such messages from no agent\. .*give chief messaging\.accept_from: \[children\]$/),
    };
    expect(await fromAide('message:publish', { event_type: 'DIRECT_MESSAGE', to: 'chief', message: { prompt: 'upward 1' } })).toMatchObject(refused);
    expect(await fromAide('message:publish', { event_type: 'DIRECT_MESSAGE', message: { to: 'chief', prompt: 'upward 2' } })).toMatchObject(refused);
    expect(await fromAide('agent:send_message', { agent_id: 'chief', message: { prompt: 'upward 3' } })).toMatchObject(refused);
    // A task goes to an idle capable agent the aide may message, else to none.
    expect((await fromAide('message:publish', { event_type: 'TASK_ASSIGNMENT', message: { prompt: 'audit this', required_capabilities: ['auditing'] } })).data).toMatchObject({ delivered: ['clerk'] });
    expect((await fromAide('message:publish', { event_type: 'TASK_ASSIGNMENT', message: { prompt: 'upward 4', required_capabilities: ['signing'] } })).data).toMatchObject({ code: 'invalid_params' });
    // A message left for an id no agent has yet would become the turn of whichever agent gets it.
    expect(await fromAide('message:publish', { event_type: 'DIRECT_MESSAGE', to: 'chief-to-be', message: { prompt: 'upward 5' } })).toMatchObject({ data: { code: 'permission_denied', error: expect.stringContaining('may not message chief-to-be: chief-to-be has no permissions') } });
    const broadcast = (await fromAide('agent:broadcast', { message: { prompt: 'to all I may reach' } })).data;
    expect(broadcast.declined).toContain('chief');
    expect(broadcast.declined).not.toContain('clerk');
    // Sideways, and downward from the parent's own connection, messages run.
    expect((await fromAide('agent:send_message', { agent_id: 'clerk', message: { prompt: 'sideways' } })).data).toMatchObject({ status: 'sent' });
    const chief = await identified('chief');
    expect((await chief.request({ event: 'agent:send_message', data: { agent_id: 'aide', message: { prompt: 'downward' } } })).data).toMatchObject({ status: 'sent' });
    await eventually(() => answered('sideways') === 1 && answered('downward') === 1 && answered('audit this') === 1 && answered('to all I may reach') === broadcast.agents_reached);

    // The chief's profile takes its children's messages: the aide's now run as its turns, the clerk's still do not.
    await send('permission:set_agent', { agent_id: 'chief', profile: 'trusted', overrides: { messaging: { accept_from_add: ['children'] } } });
    expect((await fromAide('message:publish', { event_type: 'DIRECT_MESSAGE', to: 'chief', message: { prompt: 'report' } })).data).toMatchObject({ delivered: ['chief'] });
    const clerk = await identified('clerk');
    expect(await clerk.request({ event: 'agent:send_message', data: { agent_id: 'chief', message: { prompt: 'not my boss' } } })).toMatchObject({ code: 'permission_denied' });
    await eventually(() => answered('report') === 1);
    expect(daemon.invocations().filter((entry) => /upward|to all I may reach|not my boss/.test(entry.stdin) && entry.cwd.includes('chief'))).toEqual([]);

    // An agent whose permissions were removed runs no turn, whoever asks for it: it would run without limits.
    await send('permission:remove_agent', { agent_id: 'clerk' });
    await send('agent:send_message', { agent_id: 'clerk', message: { prompt: 'unlimited?' } });
    const stalled = await eventually(async () => (await send('agent:info', { agent_id: 'clerk' })).failed_turns?.[0]);
    expect(stalled).toMatchObject({ code: 'permission_denied', error: expect.stringContaining('clerk has no permissions') });
    expect(daemon.invocations().filter((entry) => entry.stdin === 'unlimited?')).toEqual([]);
    // Nor may another agent leave it messages, which would run with whatever rights it is given back.
    expect(await fromAide('agent:send_message', { agent_id: 'clerk', message: { prompt: 'for later' } })).toMatchObject({
      code: 'permission_denied',
      error: expect.stringContaining('may not message clerk: clerk has no permissions'),
    });
    [aide, chief, clerk].forEach((connection) => connection.close());
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
    expect(optionValues(argv, '--disallowedTools')).toEqual((await send('permission:get_profile', { level: 'restricted' })).profile.tools.disallowed);
    expect(((await send('completion:status', { request_id })) as Record<string, any>).request_id).toBe(request_id);

    // A request the operator made for the agent under an id of its choosing: the agent cannot take over its pushes by sending it again.
    const gate = path.join(daemon.varDir, 'operator-asks');
    const asked = { request_id: 'made-for-cautious', prompt: `the operator asks [[result_after:${gate}]]`, agent_id: 'cautious' };
    const operator = daemon.client();
    const operatorWatcher = new CompletionWatcher(operator);
    expect(await operator.sendSingle('completion:async', asked)).toMatchObject({ request_id: 'made-for-cautious', status: 'queued' });
    expect(await agent.sendSingle('completion:async', asked)).toMatchObject({ code: 'already_exists', error: expect.stringContaining('Request made-for-cautious exists already:') });
    fs.writeFileSync(gate, '');
    expect((await operatorWatcher.end('made-for-cautious')).event).toBe('completion:result');
    expect(watcher.of('made-for-cautious')).toEqual([]);
    await operator.close();
    await agent.close();
  });
});
