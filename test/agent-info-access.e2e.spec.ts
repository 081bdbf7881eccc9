import { useFakeClaudeDaemon } from './support/completions';
import { RawConnection } from './support/raw-connection';

/** agent:info shows what an agent's turns cost and its failed prompts: an agent's own business, and its parent's. */
describe('agent:info for identified agents (real daemon)', () => {
  const { daemon, send } = useFakeClaudeDaemon();
  const identified = async (agentId: string): Promise<RawConnection> => {
    const { token } = await send('permission:issue_token', { agent_id: agentId });
    const connection = await RawConnection.open(daemon.socketPath);
    expect((await connection.request({ event: 'system:identify', data: { agent_id: agentId, token } })).data).toMatchObject({ identified: true });
    return connection;
  };

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
});
