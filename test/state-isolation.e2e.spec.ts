import { useDaemon } from './support/daemon-process';
import { RawConnection } from './support/raw-connection';

describe('state isolation between agents (real daemon)', () => {
  const { daemon, client } = useDaemon();
  const operator = (event: string, data: Record<string, unknown>) => client().sendSingle(event, data) as Promise<Record<string, any>>;

  /** A connection identified as a new agent of this permission profile. */
  const agent = async (agentId: string, profile: string): Promise<RawConnection> => {
    await operator('permission:set_agent', { agent_id: agentId, profile });
    const { token } = await operator('permission:issue_token', { agent_id: agentId });
    const connection = await RawConnection.open(daemon.socketPath);
    expect((await connection.request({ event: 'system:identify', data: { agent_id: agentId, token } })).data).toMatchObject({ identified: true });
    return connection;
  };
  const ask = async (connection: RawConnection, event: string, data: Record<string, unknown>) => {
    const reply = await connection.request({ event, data });
    return reply.code === undefined ? reply.data : { code: reply.code, error: reply.error };
  };

  it("gives each agent a private namespace by default, which others can neither read, write nor pop", async () => {
    const writer = await agent('writer', 'standard');
    const reader = await agent('reader', 'restricted');
    const other = await agent('other', 'standard');
    expect(await ask(writer, 'state:set', { key: 'plan', value: 'secret' })).toMatchObject({ status: 'set', namespace: 'agent:writer' });
    expect(await ask(writer, 'state:get', { key: 'plan' })).toMatchObject({ value: 'secret', namespace: 'agent:writer' });
    expect(await ask(writer, 'async_state:push', { queue_name: 'jobs', value: 1 })).toMatchObject({ status: 'pushed', namespace: 'agent:writer' });
    // The reader's own namespace is a different one.
    expect(await ask(reader, 'state:get', { key: 'plan' })).toMatchObject({ found: false, namespace: 'agent:reader' });

    const attempts: [RawConnection, string, Record<string, unknown>][] = [
      [reader, 'state:get', { key: 'plan', namespace: 'agent:writer' }],
      [reader, 'state:list', { namespace: 'agent:writer' }],
      [reader, 'state:get', { key: 'plan', namespace: 'global' }],
      [other, 'state:set', { key: 'plan', value: 'overwritten', namespace: 'agent:writer' }],
      [other, 'state:delete', { key: 'plan', namespace: 'agent:writer' }],
      [other, 'async_state:pop', { queue_name: 'jobs', namespace: 'agent:writer' }],
      [other, 'async_state:get_keys', { namespace: 'agent:writer' }],
      [other, 'async_state:pop', { queue_name: 'jobs', namespace: 'default' }],
    ];
    for (const [connection, event, data] of attempts) {
      expect({ event, data, reply: await ask(connection, event, data) }).toEqual({ event, data, reply: { code: 'permission_denied', error: expect.stringContaining('may not use state namespace') } });
    }
    expect(await ask(writer, 'state:get', { key: 'plan' })).toMatchObject({ value: 'secret' });
    expect(await ask(writer, 'async_state:queue_length', { queue_name: 'jobs' })).toMatchObject({ length: 1 });
    [writer, reader, other].forEach((connection) => connection.close());
  });

  it('shares the namespaces a profile grants, and shows the operator everything', async () => {
    const one = await agent('one', 'standard');
    const two = await agent('two', 'restricted');
    expect(await ask(one, 'state:set', { key: 'status', value: 'green', namespace: 'shared:team' })).toMatchObject({ status: 'set' });
    expect(await ask(two, 'state:get', { key: 'status', namespace: 'shared:team' })).toMatchObject({ value: 'green', found: true });
    expect(await ask(one, 'state:set', { key: 'mine', value: 1 })).toMatchObject({ namespace: 'agent:one' });
    expect(await operator('state:get', { key: 'mine', namespace: 'agent:one' })).toMatchObject({ value: 1, found: true });
    expect(await operator('state:list', { namespace: 'agent:one' })).toMatchObject({ keys: ['mine'] });
    expect(await operator('state:set', { key: 'open', value: true })).toMatchObject({ namespace: 'global' });
    [one, two].forEach((connection) => connection.close());
  });
});
