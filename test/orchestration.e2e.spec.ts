import { eventually } from './support/daemon-process';
import { fakeClaudeDaemon, useFakeClaudeDaemon } from './support/completions';
import { onDaemonDatabase } from './support/daemon-database';
import { RawConnection } from './support/raw-connection';
import { postgresCluster } from './support/test-database';

describe('orchestration patterns (real daemon, fake Claude CLI)', () => {
  const { daemon, send } = useFakeClaudeDaemon();

  it('ships the debate and hello_goodbye patterns', async () => {
    expect((await send('orchestration:list_patterns')).patterns).toEqual(expect.arrayContaining(['debate', 'hello_goodbye']));
    expect((await send('orchestration:load_pattern', { pattern: 'debate' })).pattern.coordination.turn_order).toEqual(['pro', 'con']);
    expect(await send('orchestration:load_pattern', { pattern: 'nope' })).toMatchObject({ code: 'not_found' });
  });

  it('runs a two-agent debate for the agreed rounds with strict turn-taking, then terminates', async () => {
    const started = await send('orchestration:start', { pattern: 'debate', vars: { topic: 'four-day weeks', rounds: 2 } });
    const id = started.orchestration_id as string;
    expect(started.agents).toEqual([`${id}_pro`, `${id}_con`]);
    const status = await eventually(async () => {
      const current = await send('orchestration:status', { orchestration_id: id });
      return current.state === 'terminated' ? current : undefined;
    }, 20_000);
    expect(status).toMatchObject({ state: 'terminated', reason: 'rounds', message_count: 4 });
    const { transcript } = await send('orchestration:get_instance', { orchestration_id: id });
    expect(transcript.map((turn: { agent_id: string }) => turn.agent_id)).toEqual([`${id}_pro`, `${id}_con`, `${id}_pro`, `${id}_con`]);
    const prompts = daemon.invocations().filter((entry) => entry.cwd.includes(id)).map((entry) => entry.stdin);
    expect(prompts[0]).toBe('Open the debate on four-day weeks.');
    expect(prompts[1]).toMatch(/^pro: echo: Open the debate/);
    expect(prompts).toHaveLength(4);
    const agents = (await send('agent:list')).agents.map((agent: { agent_id: string }) => agent.agent_id);
    expect(agents.some((agent: string) => agent.startsWith(id))).toBe(false);
    expect((await send('orchestration:status')).orchestrations.map((o: { orchestration_id: string }) => o.orchestration_id)).toContain(id);
  });

  it('ignores a reply out of turn and can be terminated', async () => {
    const { orchestration_id: id } = await send('orchestration:start', { pattern: 'hello_goodbye', vars: { name: 'Ada [[sleep:3000]]' } });
    expect(await send('orchestration:message', { orchestration_id: id, from_agent: `${id}_leaver`, payload: { text: 'too early' } })).toMatchObject({ status: 'blocked' });
    expect(await send('orchestration:terminate', { orchestration_id: id })).toMatchObject({ state: 'terminated', reason: 'requested' });
  });

  /** The ids of the agents spawned for orchestrations that are still there. */
  const orchestrationAgents = async (): Promise<string[]> =>
    (await send('agent:list')).agents.map((agent: { agent_id: string }) => agent.agent_id).filter((agent: string) => agent.startsWith('orch_'));

  /** A connection identified as the agent, with a token the operator issued. */
  const identified = async (agentId: string): Promise<RawConnection> =>
    RawConnection.identified(daemon.socketPath, agentId, (await send('permission:issue_token', { agent_id: agentId })).token);

  it('refuses variables of the wrong type, naming them, before any agent is spawned', async () => {
    const before = await orchestrationAgents();
    const refusals: [string, Record<string, unknown>, string, RegExp][] = [
      ['debate', { rounds: 'abc' }, 'vars.rounds', /vars\.rounds must be a positive integer, not "abc" \(the debate pattern's coordination\.termination\.rounds\)/],
      ['debate', { rounds: -3 }, 'vars.rounds', /vars\.rounds must be a positive integer, not -3/],
      ['debate', { rounds: 1.5 }, 'vars.rounds', /vars\.rounds must be a positive integer/],
      ['until_done', { timeout_seconds: 'soon' }, 'vars.timeout_seconds', /vars\.timeout_seconds must be a number of seconds/],
      ['until_done', { done_event: 7 }, 'vars.done_event', /vars\.done_event must be an event name or glob/],
      ['until_done', { task: { steps: 2 } }, 'vars.task', /vars\.task must be text/],
      ['until_done', { task: '  ' }, 'vars.task', /vars\.task must be text that is not blank/],
    ];
    for (const [pattern, vars, variable, message] of refusals) {
      const reply = await send('orchestration:start', { pattern, vars });
      expect({ pattern, vars, code: reply.code, variables: reply.details?.map((issue: { path: string }) => issue.path) }).toEqual({ pattern, vars, code: 'invalid_params', variables: [variable] });
      expect(reply.error).toMatch(message);
    }
    expect(await orchestrationAgents()).toEqual(before);
    // A number given as text is still a number.
    const started = await send('orchestration:start', { pattern: 'debate', vars: { topic: 'tea [[sleep:3000]]', rounds: '3' } });
    expect(started).toMatchObject({ status: 'started' });
    expect(await send('orchestration:terminate', { orchestration_id: started.orchestration_id })).toMatchObject({ rounds: 3, state: 'terminated' });
  });

  it('terminates the agents it spawned when a later one cannot be: none is left without an instance', async () => {
    // A standard agent may spawn the coder (standard) but not the researcher (web tools it lacks).
    await send('permission:set_agent', { agent_id: 'plain-starter', profile: 'standard', overrides: { capabilities: { spawn_agents: true }, events: { allowed_add: ['orchestration:start'] } } });
    const starter = await identified('plain-starter');
    const before = await orchestrationAgents();
    const reply = await starter.request({ event: 'orchestration:start', data: { pattern: 'until_done', vars: { task: 'iterate [[sleep:3000]]' } } });
    starter.close();
    expect(reply.data).toMatchObject({ code: 'permission_denied', error: expect.stringContaining('WebFetch') });
    expect(await orchestrationAgents()).toEqual(before);
  });

  it("lets an agent terminate only the instances it, or an agent it spawned, started; the operator any", async () => {
    const refusal = (reply: Record<string, any>) => reply.code ?? reply.data?.code;
    const start = async (connection: RawConnection | undefined, name: string): Promise<string> => {
      const data = { pattern: 'hello_goodbye', vars: { name: `${name} [[sleep:60000]]` } };
      const started = connection ? (await connection.request({ event: 'orchestration:start', data })).data : await send('orchestration:start', data);
      expect(started).toMatchObject({ status: 'started' });
      return started.orchestration_id;
    };
    const terminate = (connection: RawConnection, id: string) => connection.request({ event: 'orchestration:terminate', data: { orchestration_id: id } });

    await send('permission:set_agent', { agent_id: 'orch-boss', profile: 'trusted' });
    await send('permission:set_agent', { agent_id: 'orch-peer', profile: 'trusted' });
    const boss = await identified('orch-boss');
    const peer = await identified('orch-peer');
    const operators = await start(undefined, 'Op');
    const bosses = await start(boss, 'Boss');
    expect(await send('orchestration:status', { orchestration_id: bosses })).toMatchObject({ started_by: 'orch-boss' });
    expect(await send('orchestration:status', { orchestration_id: operators })).toMatchObject({ started_by: null });

    // The same agent may not agent:terminate the operator's agents either.
    expect(refusal(await boss.request({ event: 'agent:terminate', data: { agent_id: `${operators}_greeter` } }))).toBe('permission_denied');
    const denied = await terminate(boss, operators);
    expect(denied.data).toMatchObject({ code: 'permission_denied', error: expect.stringContaining(`Agent orch-boss may not terminate orchestration ${operators}: the operator started it`) });
    expect(refusal(await terminate(peer, bosses))).toBe('permission_denied');
    expect(await send('orchestration:status', { orchestration_id: operators })).toMatchObject({ state: 'running' });
    expect(await send('orchestration:status', { orchestration_id: bosses })).toMatchObject({ state: 'running' });

    // An agent it spawned started one: the parent ends it; the child does not end its parent's.
    await boss.request({ event: 'agent:spawn', data: { profile: 'base_agent', agent_id: 'orch-kid', permission_profile: 'trusted' } });
    const kid = await identified('orch-kid');
    const kids = await start(kid, 'Kid');
    expect(refusal(await terminate(kid, bosses))).toBe('permission_denied');
    expect(refusal(await terminate(peer, kids))).toBe('permission_denied');
    expect((await terminate(boss, kids)).data).toMatchObject({ state: 'terminated', reason: 'requested' });
    expect((await terminate(boss, bosses)).data).toMatchObject({ state: 'terminated', reason: 'requested' });
    expect(await send('orchestration:terminate', { orchestration_id: operators })).toMatchObject({ state: 'terminated', reason: 'requested' });
    for (const connection of [boss, peer, kid]) connection.close();
    await send('agent:terminate', { agent_id: 'orch-kid' });
  });

  it('refuses its internal events over the socket, handled or not: the daemon raises them itself', async () => {
    for (const event of ['orchestration:started', 'orchestration:terminated', 'agent:result', 'agent:inbox', 'agent:profile', 'agent:find_idle']) {
      await expect(send(event)).rejects.toMatchObject({ code: 'forbidden_event' });
    }
  });
});

describe('termination by event', () => {
  const daemon = fakeClaudeDaemon();
  beforeAll(() => daemon.start());
  afterAll(() => daemon.dispose());

  it('ends the instance when a matching event happens', async () => {
    const client = daemon.client();
    const { orchestration_id: id } = await client.sendSingle('orchestration:start', { pattern: 'until_done', vars: { task: 'iterate [[sleep:200]]', done_event: 'state:set' } });
    await client.sendSingle('state:set', { key: 'done', value: true });
    const status = await eventually(async () => {
      const current = (await client.sendSingle('orchestration:status', { orchestration_id: id })) as Record<string, unknown>;
      return current.state === 'terminated' ? current : undefined;
    });
    expect(status).toMatchObject({ reason: 'event:state:set' });
    await client.close();
  });
});

describe('instances outlive the daemon', () => {
  const daemon = fakeClaudeDaemon();
  beforeAll(() => daemon.start());
  afterAll(() => daemon.dispose());

  const statusOf = async (id: string): Promise<Record<string, any>> => {
    const client = daemon.client();
    try {
      return (await client.sendSingle('orchestration:status', { orchestration_id: id })) as Record<string, any>;
    } finally {
      await client.close();
    }
  };
  const ended = (id: string) =>
    eventually(async () => {
      const current = await statusOf(id);
      return current.state === 'terminated' ? current : undefined;
    }, 30_000);

  it('a debate killed with the daemon (kill -9) goes on where it was once the daemon starts again', async () => {
    const client = daemon.client();
    const { orchestration_id: id } = (await client.sendSingle('orchestration:start', { pattern: 'debate', vars: { topic: 'tides [[sleep:300]]', rounds: 3 } })) as Record<string, any>;
    await client.close();
    await eventually(async () => (await statusOf(id)).message_count >= 2, 20_000);
    await daemon.stop('SIGKILL');
    await daemon.start();
    expect(await ended(id)).toMatchObject({ reason: 'rounds', message_count: 6 });
    const again = daemon.client();
    const { transcript } = (await again.sendSingle('orchestration:get_instance', { orchestration_id: id })) as Record<string, any>;
    expect(transcript.map((turn: { agent_id: string }) => turn.agent_id)).toEqual([1, 2, 3].flatMap(() => [`${id}_pro`, `${id}_con`]));
    // Each reply answers the one before it: nothing was skipped or routed twice.
    for (let i = 1; i < transcript.length; i++) expect(transcript[i].text).toContain(transcript[i - 1].text);
    const { agents } = (await again.sendSingle('agent:list', {})) as { agents: { agent_id: string }[] };
    expect(agents.filter((agent) => agent.agent_id.startsWith(id))).toEqual([]);
    await again.close();
  });

  it('a turn written but never handed to its agent (the daemon died in between) is handed on, once, when the daemon starts again', async () => {
    const client = daemon.client();
    const { orchestration_id: id } = (await client.sendSingle('orchestration:start', { pattern: 'hello_goodbye', vars: { name: 'Bo [[sleep:60000]]' } })) as Record<string, any>;
    await client.close();
    await daemon.stop('SIGKILL');
    // What the daemon left had it died after writing the first turn and before the agent's inbox held it.
    const greeter = `${id}_greeter`;
    await onDaemonDatabase(daemon.varDir, 'DELETE FROM agent_messages WHERE agent_id = ?', [greeter]);
    await onDaemonDatabase(daemon.varDir, 'DELETE FROM completion_requests WHERE agent_id = ?', [greeter]);
    await onDaemonDatabase(daemon.varDir, `UPDATE agents SET status = 'idle' WHERE agent_id = ?`, [greeter]);
    const turn = { agent_id: greeter, message: { prompt: 'Say hello quickly.', orchestration_id: id, orchestration_turn: 0 } };
    await onDaemonDatabase(daemon.varDir, 'UPDATE orchestrations SET pending_turn = ?, pending_since = 0 WHERE orchestration_id = ?', [JSON.stringify(turn), id]);
    await daemon.start();
    expect(await ended(id)).toMatchObject({ reason: 'rounds', message_count: 2 });
    const again = daemon.client();
    const { transcript } = (await again.sendSingle('orchestration:get_instance', { orchestration_id: id })) as Record<string, any>;
    await again.close();
    expect(transcript.map((entry: { agent_id: string }) => entry.agent_id)).toEqual([greeter, `${id}_leaver`]);
    expect(transcript[0].text).toContain('Say hello quickly.');
    expect(daemon.invocations().filter((entry) => entry.stdin === 'Say hello quickly.')).toHaveLength(1);
  });

  it('an ending the daemon left half done is finished when it starts again: its agents are terminated', async () => {
    const client = daemon.client();
    const { orchestration_id: id } = (await client.sendSingle('orchestration:start', { pattern: 'hello_goodbye', vars: { name: 'Cy [[sleep:60000]]' } })) as Record<string, any>;
    await client.close();
    await daemon.stop('SIGKILL');
    await onDaemonDatabase(daemon.varDir, `UPDATE orchestrations SET state = 'ending', reason = 'requested', pending_since = 0 WHERE orchestration_id = ?`, [id]);
    await daemon.start();
    expect(await ended(id)).toMatchObject({ reason: 'requested' });
    const again = daemon.client();
    const { agents } = (await again.sendSingle('agent:list', {})) as { agents: { agent_id: string }[] };
    await again.close();
    expect(agents.filter((agent) => agent.agent_id.startsWith(id))).toEqual([]);
  });

  it('a timeout set before a graceful restart ends the instance after it', async () => {
    const client = daemon.client();
    const { orchestration_id: id } = (await client.sendSingle('orchestration:start', {
      pattern: 'until_done',
      vars: { task: 'iterate [[sleep:300]]', done_event: 'never:raised', timeout_seconds: 4 },
    })) as Record<string, any>;
    await client.close();
    await daemon.stop();
    await daemon.start();
    const status = (await ended(id))!;
    expect(status).toMatchObject({ reason: 'timeout' });
    expect(status.ended_at - status.started_at).toBeGreaterThanOrEqual(4);
  });
});

describe('a reply the database refused to route', () => {
  // A short lease TTL: the daemon looks at its orchestrations every half second.
  const daemon = fakeClaudeDaemon({ env: { KSI_LEASE_TTL_MS: '1500' } });
  beforeAll(() => daemon.start());
  afterAll(() => daemon.dispose());

  /** Every update of an orchestration fails, as writes do while the database is unreachable or full. */
  const refuseRoutes = async (): Promise<void> => {
    if (!postgresCluster()) return void (await onDaemonDatabase(daemon.varDir, `CREATE TRIGGER refuse_routes BEFORE UPDATE ON orchestrations BEGIN SELECT RAISE(ABORT, 'refused by the test'); END`));
    await onDaemonDatabase(daemon.varDir, `CREATE FUNCTION refuse_routes() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$`);
    await onDaemonDatabase(daemon.varDir, 'CREATE TRIGGER refuse_routes BEFORE UPDATE ON orchestrations FOR EACH ROW EXECUTE FUNCTION refuse_routes()');
  };
  const allowRoutes = () => onDaemonDatabase(daemon.varDir, postgresCluster() ? 'DROP TRIGGER refuse_routes ON orchestrations' : 'DROP TRIGGER refuse_routes');

  it('is routed once the database takes writes again: the debate goes on in turn, nothing lost or doubled', async () => {
    const client = daemon.client();
    const { orchestration_id: id } = (await client.sendSingle('orchestration:start', { pattern: 'debate', vars: { topic: 'kelp [[sleep:1000]]', rounds: 1 } })) as Record<string, any>;
    // The first turn is with its agent; the reply to it comes while routes are refused.
    await eventually(async () => (await onDaemonDatabase<{ pending: unknown }>(daemon.varDir, 'SELECT pending_turn AS pending FROM orchestrations WHERE orchestration_id = ?', [id]))[0].pending === null, 10_000, 'the first turn handed on');
    await refuseRoutes();
    try {
      await eventually(() => daemon.readLog().includes('agent reply not routed'), 10_000, 'the route of the first reply refused');
    } finally {
      await allowRoutes();
    }
    const status = await eventually(async () => {
      const current = (await client.sendSingle('orchestration:status', { orchestration_id: id })) as Record<string, any>;
      return current.state === 'terminated' ? current : undefined;
    }, 20_000);
    expect(status).toMatchObject({ reason: 'rounds', message_count: 2 });
    const { transcript } = (await client.sendSingle('orchestration:get_instance', { orchestration_id: id })) as Record<string, any>;
    await client.close();
    expect(transcript.map((turn: { agent_id: string }) => turn.agent_id)).toEqual([`${id}_pro`, `${id}_con`]);
    expect(transcript[1].text).toContain(transcript[0].text);
  });
});
