import * as path from 'node:path';
import { useFakeClaudeDaemon } from './support/completions';
import { eventually } from './support/daemon-process';
import { RawConnection } from './support/raw-connection';

/** agent:info shows what an agent's turns cost and its failed prompts: an agent's own business, and its parent's. */
describe('agent:info for identified agents (real daemon)', () => {
  const { daemon, send } = useFakeClaudeDaemon();
  /** A connection identified as the agent, with a token the operator issued. */
  const identified = async (agentId: string): Promise<RawConnection> =>
    RawConnection.identified(daemon.socketPath, agentId, (await send('permission:issue_token', { agent_id: agentId })).token);

  it("lets an agent read its own and its children's, never another agent's", async () => {
    await send('agent:spawn', { profile: 'base_agent', agent_id: 'worker', permission_profile: 'standard' });
    await send('agent:spawn', { profile: 'base_agent', agent_id: 'lead', permission_profile: 'trusted' });
    const worker = await identified('worker');
    expect((await worker.request({ event: 'agent:info', data: { agent_id: 'worker' } })).data).toMatchObject({ agent_id: 'worker', costs: { requests: 0 } });
    expect(await worker.request({ event: 'agent:info', data: { agent_id: 'lead' } })).toMatchObject({ code: 'permission_denied', error: expect.stringContaining('lead') });
    worker.close();

    const lead = await identified('lead');
    expect((await lead.request({ event: 'agent:spawn', data: { profile: 'base_agent', agent_id: 'helper', permission_profile: 'restricted' } })).data).toMatchObject({ agent_id: 'helper' });
    expect((await lead.request({ event: 'agent:info', data: { agent_id: 'helper' } })).data).toMatchObject({ agent_id: 'helper', costs: { requests: 0 } });
    expect(await lead.request({ event: 'agent:info', data: { agent_id: 'worker' } })).toMatchObject({ code: 'permission_denied' });
    lead.close();

    expect(await send('agent:info', { agent_id: 'worker' })).toMatchObject({ agent_id: 'worker' });
  });

  it("keeps another agent's session, workspace and failed prompts out of what an agent lists, and refuses a resume of another agent's session", async () => {
    await send('agent:spawn', { profile: 'base_agent', agent_id: 'chat', permission_profile: 'standard' });
    await send('agent:spawn', { profile: 'base_agent', agent_id: 'boss', permission_profile: 'trusted' });
    await send('agent:send_message', { agent_id: 'chat', message: { prompt: 'secret plan [[auth]]' } });
    await send('agent:send_message', { agent_id: 'chat', message: { prompt: 'hello' } });
    const chat = await eventually(async () => {
      const info = await send('agent:info', { agent_id: 'chat' });
      return info.session_id !== null && info.failed_turns.length === 1 ? info : undefined;
    }, 20_000, "chat's failed turn and its session");
    expect(chat.failed_turns[0]).toMatchObject({ prompt: 'secret plan [[auth]]' });

    const boss = await identified('boss');
    for (const event of ['agent:list', 'agent:discover_peers']) {
      const listed = (await boss.request({ event, data: {} })).data;
      const seen = (listed.agents ?? listed.peers).find((agent: { agent_id: string }) => agent.agent_id === 'chat');
      expect([event, seen]).toEqual([event, expect.objectContaining({ agent_id: 'chat', session_id: null, sandbox: null, failed_turns: [], failed_messages: 1 })]);
    }
    expect((await boss.request({ event: 'completion:async', data: { prompt: 'Repeat everything said earlier', session_id: chat.session_id } })).data).toMatchObject({
      code: 'permission_denied',
      error: expect.stringContaining(`may not resume session ${chat.session_id}`),
    });
    // Nor may it take another agent's bridge (its identity and token) or queue.
    for (const [data, refused] of [
      [{ mcp_config: path.join(daemon.varDir, 'tmp', 'chat_mcp_config.json') }, 'may not choose mcp_config'],
      [{ extra_body: { ksi: { mcp_config_path: '/elsewhere.json' } } }, 'may not choose mcp_config or extra_body.ksi'],
      [{ conversation_id: 'agent:chat' }, 'may not queue into agent:chat'],
      [{ cwd: daemon.varDir }, 'may not choose cwd'],
    ] as const) {
      expect((await boss.request({ event: 'completion:async', data: { prompt: 'as someone else', ...data } })).data).toMatchObject({ code: 'permission_denied', error: expect.stringContaining(refused) });
    }
    // A session of its own turns (here one the operator ran for it) it resumes.
    const own = await send('completion:async', { prompt: 'remember this', agent_id: 'boss' });
    const session = await eventually(async () => (await send('completion:status', { request_id: own.request_id })).result_session_id, 20_000, "boss's own session");
    expect((await boss.request({ event: 'completion:async', data: { prompt: 'and this', session_id: session } })).data).toMatchObject({ status: 'queued' });
    boss.close();
    expect((await send('agent:list', {})).agents.find((agent: { agent_id: string }) => agent.agent_id === 'chat')).toMatchObject({ session_id: chat.session_id, failed_turns: [expect.anything()] });

    // An agent spawned later under a terminated agent's id does not inherit its sessions.
    await send('agent:terminate', { agent_id: 'chat' });
    await send('agent:spawn', { profile: 'base_agent', agent_id: 'chat', permission_profile: 'trusted' });
    const successor = await identified('chat');
    expect((await successor.request({ event: 'completion:async', data: { prompt: 'what did I say', session_id: chat.session_id } })).data).toMatchObject({
      code: 'permission_denied',
      error: expect.stringContaining(`may not resume session ${chat.session_id}`),
    });
    successor.close();
  });
});
