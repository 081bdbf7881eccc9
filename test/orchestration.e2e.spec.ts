import { eventually } from './support/daemon-process';
import { fakeClaudeDaemon, useFakeClaudeDaemon } from './support/completions';

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
