import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { KsiClient, KsiConnectionError, KsiEventError, KsiIdentityError, KsiTimeoutError } from '../libs/client/src';
import { eventually, useDaemon } from './support/daemon-process';

describe('KsiClient against the real daemon', () => {
  const { client: connected } = useDaemon();
  let client: KsiClient;
  beforeAll(() => (client = connected()));

  it('sendEvent returns data as sent; request-level errors reject with KsiEventError and their code', async () => {
    expect(await client.sendEvent('state:set', { key: 'c', value: 1 })).toEqual({ status: 'set', namespace: 'global', key: 'c' });
    const error = await client.sendEvent('nope:nope').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KsiEventError);
    expect(error).toMatchObject({ code: 'unknown_event', event: 'nope:nope' });
    // @ts-expect-error state:get requires a key: sent anyway, for the daemon to refuse
    const invalid = await client.sendEvent('state:get', {}).catch((e: KsiEventError) => e);
    expect(invalid).toMatchObject({ code: 'invalid_params', details: [{ path: 'key', message: 'Required' }] });
  });

  it('sendSingle, sendAll and sendFirst shape the results', async () => {
    expect(await client.sendSingle('state:get', { key: 'c' })).toMatchObject({ value: 1 });
    expect(await client.sendAll('state:get', { key: 'c' })).toHaveLength(1);
    expect(await client.sendFirst('state:get', { key: 'c' })).toMatchObject({ value: 1 });
  });

  it('getValue returns the default when the key is absent, null, or the request fails', async () => {
    await client.sendEvent('state:set', { key: 'five', value: 5 });
    expect(await client.getValue('state:get', { key: 'five' })).toBe(5);
    expect(await client.getValue('state:get', { key: 'absent-key' }, 'value', 'fallback')).toBe('fallback');
    expect(await client.getValue('no:such', {}, 'value', 'fallback')).toBe('fallback');
  });

  it('sendAndMerge, sendSuccessOnly and sendWithErrors handle results and error results', async () => {
    expect(await client.sendAndMerge('system:discover', { namespace: 'state' }, 'events')).toHaveProperty('events.state:get');
    expect(await client.sendSuccessOnly('module:inspect', { module_name: 'nope' })).toEqual([]);
    const collected = await client.sendWithErrors('module:inspect', { module_name: 'nope' }, 'collect');
    expect(collected).toMatchObject({ results: [], has_errors: true, errors: [{ code: 'not_found' }] });
    await expect(client.sendWithErrors('module:inspect', { module_name: 'nope' })).rejects.toMatchObject({ code: 'not_found' });
  });

  it('matches replies by correlation id when requests overlap', async () => {
    const keys = Array.from({ length: 100 }, (_, i) => `overlap-${i}`);
    await Promise.all(keys.map((key, i) => client.sendEvent('state:set', { key, value: i })));
    const values = await Promise.all(keys.map((key) => client.getValue('state:get', { key })));
    expect(values).toEqual(keys.map((_, i) => i));
  });
});

describe('KsiClient identified as an agent', () => {
  const { daemon, client: operator } = useDaemon();
  const send = (event: string, data: Record<string, unknown> = {}) => operator().sendSingle(event, data) as Promise<Record<string, any>>;

  /** A client identified as the agent, its token issued by the operator, and a promise of its connection's end. */
  const identifiedClient = async (agentId: string) => {
    const { token } = await send('permission:issue_token', { agent_id: agentId });
    const agent = daemon.client();
    expect(await agent.sendSingle('system:identify', { agent_id: agentId, token })).toMatchObject({ identified: true });
    expect(agent.agentId).toBe(agentId);
    const closed = new Promise<void>((resolve) => agent.onClose(resolve));
    return { agent, closed };
  };

  it.each([
    ['terminated', (agentId: string) => send('agent:terminate', { agent_id: agentId })],
    ['given a new token', (agentId: string) => send('permission:issue_token', { agent_id: agentId })],
  ])('fails every call with KsiIdentityError once its agent is %s, and runs nothing as the operator', async (how, revoke) => {
    const agentId = `shortlived-${how.split(' ')[0]}`;
    await send('agent:spawn', { profile: 'base_agent', agent_id: agentId, permission_profile: 'trusted' });
    const { agent, closed } = await identifiedClient(agentId);
    expect(await agent.sendSingle('state:set', { key: 'x', value: 'mine' })).toMatchObject({ namespace: `agent:${agentId}` });

    await revoke(agentId);
    await closed;
    // Sent together: they wait for the same reconnect, whose identification is refused.
    const calls = await Promise.allSettled([agent.sendSingle('state:set', { key: `leak-${agentId}`, value: 1 }), agent.sendSingle('state:get', { key: 'x' })]);
    for (const call of calls) {
      expect(call.status).toBe('rejected');
      const error = (call as PromiseRejectedResult).reason;
      expect(error).toBeInstanceOf(KsiIdentityError);
      expect(error).toMatchObject({ code: 'permission_denied', agentId });
      expect(error.message).toContain(`identified as agent ${agentId}`);
      expect(error.message).toMatch(/terminated or removed, or its token was issued again/);
    }
    // Later calls too, getValue included (it does not turn the refusal into its default).
    await expect(agent.getValue('state:get', { key: 'x' }, 'value', 'fallback')).rejects.toBeInstanceOf(KsiIdentityError);
    await expect(agent.sendEvent('system:health')).rejects.toMatchObject({ code: 'permission_denied', agentId });
    expect(await send('state:get', { key: `leak-${agentId}` })).toMatchObject({ namespace: 'global', found: false });
    await agent.close();
  });

  it('identifies again with the same agent and token after the daemon restarts', async () => {
    await send('permission:set_agent', { agent_id: 'survivor', profile: 'trusted' });
    const { agent, closed } = await identifiedClient('survivor');
    expect(await agent.sendSingle('state:set', { key: 'before', value: 1 })).toMatchObject({ namespace: 'agent:survivor' });

    await daemon.stop();
    await closed;
    await daemon.start();
    expect(await agent.sendSingle('state:set', { key: 'after', value: 2 })).toMatchObject({ namespace: 'agent:survivor' });
    expect(agent.agentId).toBe('survivor');
    await expect(agent.sendSingle('state:get', { key: 'after', namespace: 'global' })).rejects.toMatchObject({ code: 'permission_denied' });
    expect(await send('state:get', { key: 'after', namespace: 'agent:survivor' })).toMatchObject({ found: true, value: 2 });
    expect(await send('state:get', { key: 'after' })).toMatchObject({ namespace: 'global', found: false });
    await agent.close();
  });
});

describe('KsiClient failure modes', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ksi-client-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** A peer that accepts connections and does what `onLine` says with each request line. */
  const peer = (name: string, onLine: (socket: net.Socket) => void) =>
    new Promise<{ socketPath: string; server: net.Server }>((resolve) => {
      const socketPath = path.join(dir, name);
      const server = net.createServer((socket) => socket.on('data', () => onLine(socket)));
      server.listen(socketPath, () => resolve({ socketPath, server }));
    });

  /**
   * A daemon stand-in that answers each request line (system:identify as identified, anything else as
   * healthy) on the connections `answers` picks by their number (1 for the first), and is silent on the
   * others; `connections` holds every connection accepted.
   */
  const answeringPeer = async (name: string, answers: (connection: number) => boolean = () => true) => {
    const connections: net.Socket[] = [];
    const socketPath = path.join(dir, name);
    const server = net.createServer((socket) => {
      // A connection the client drops mid-request ends in ECONNRESET here.
      socket.on('error', () => undefined);
      const answering = answers(connections.push(socket));
      let buffered = '';
      socket.on('data', (chunk) => {
        buffered += chunk.toString();
        for (let end = buffered.indexOf('\n'); end >= 0; end = buffered.indexOf('\n')) {
          const { event, data, correlation_id } = JSON.parse(buffered.slice(0, end));
          buffered = buffered.slice(end + 1);
          const result = event === 'system:identify' ? { identified: true, agent_id: data.agent_id } : { status: 'healthy' };
          if (answering) socket.write(`${JSON.stringify({ event, data: result, correlation_id })}\n`);
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(socketPath, resolve));
    return { socketPath, server, connections };
  };

  it('rejects with KsiConnectionError and says how to start the daemon when nothing listens', async () => {
    const client = new KsiClient({ socketPath: path.join(dir, 'missing.sock') });
    const error = await client.sendEvent('system:health').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KsiConnectionError);
    expect((error as Error).message).toMatch(/Cannot reach the KSI daemon .*no socket file.*npx ksi daemon start/);
  });

  it('rejects with KsiTimeoutError when no reply comes', async () => {
    const { socketPath, server } = await peer('silent.sock', () => undefined);
    const client = new KsiClient({ socketPath, timeoutMs: 100 });
    await expect(client.sendEvent('system:health')).rejects.toBeInstanceOf(KsiTimeoutError);
    await client.close();
    server.close();
  });

  it('fails every pending request at once when the connection drops', async () => {
    const { socketPath, server } = await peer('drop.sock', (socket) => socket.destroy());
    // Longer than the test's own timeout: only the drop can end these requests.
    const client = new KsiClient({ socketPath, timeoutMs: 120_000 });
    const results = await Promise.allSettled([client.sendEvent('a:b'), client.sendEvent('c:d')]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    for (const result of results) expect((result as PromiseRejectedResult).reason).toBeInstanceOf(KsiConnectionError);
    server.close();
  });

  it('close() while connecting leaves no connection behind; the next call connects again', async () => {
    const { socketPath, server, connections: accepted } = await answeringPeer('closing.sock');
    const client = new KsiClient({ socketPath, timeoutMs: 5_000 });
    const connecting = client.connect();
    await client.close();
    await expect(connecting).rejects.toThrow(new KsiConnectionError('Client closed', socketPath));
    expect(client.connected).toBe(false);
    await eventually(() => accepted.length === 1 && accepted[0].readableEnded, 5_000, 'the peer saw the connection end');
    expect(await client.sendEvent('system:health')).toEqual({ status: 'healthy' });
    expect(accepted).toHaveLength(2);
    await client.close();
    server.close();
  });

  it('close() while identifying again with a daemon that does not answer ends at once; a call right after a close() not awaited goes out on a new connection', async () => {
    // The second connection, as a hung daemon, does not answer.
    const { socketPath, server, connections } = await answeringPeer('identifying.sock', (connection) => connection !== 2);
    const client = new KsiClient({ socketPath, timeoutMs: 120_000 });
    expect(await client.sendEvent('system:identify', { agent_id: 'a1', token: 't' })).toMatchObject({ identified: true });
    connections[0].destroy();
    await eventually(() => !client.connected, 5_000, 'the client saw its connection end');
    const call = client.sendEvent('system:health');
    await eventually(() => connections.length === 2, 5_000, 'the client reconnecting');
    // Longer than the test's own timeout: only close() can end the identify.
    await client.close();
    await expect(call).rejects.toThrow(new KsiConnectionError('Client closed', socketPath));
    expect(await client.sendEvent('system:health')).toEqual({ status: 'healthy' });
    // The connection closing is not the new one's: the call on the new one is answered.
    let closings = 0;
    client.onClose(() => closings++);
    void client.close();
    expect(await client.sendEvent('system:health')).toEqual({ status: 'healthy' });
    expect(connections).toHaveLength(4);
    await eventually(() => closings === 1, 5_000, 'the closed connection told to onClose');
    await client.close();
    server.close();
  });

  it('delivers pushed lines to subscribers whose event name or glob matches', async () => {
    const { socketPath, server } = await peer('push.sock', (socket) => {
      socket.write(`${JSON.stringify({ event: 'completion:progress', data: { n: 1 }, timestamp: 1, push: true })}\n`);
      socket.write(`${JSON.stringify({ event: 'message:delivered', data: { n: 2 }, timestamp: 1, push: true })}\n`);
      socket.write(`${JSON.stringify({ event: 'completion:result', data: { n: 3 }, timestamp: 1, push: true })}\n`);
    });
    const client = new KsiClient({ socketPath, timeoutMs: 200 });
    const globbed: string[] = [];
    const named: unknown[] = [];
    const unsubscribe = client.subscribe('completion:*', (line) => globbed.push(line.event));
    client.subscribe('completion:result', (line) => named.push(line.data));
    await client.sendEvent('system:health').catch(() => undefined);
    expect(globbed).toEqual(['completion:progress', 'completion:result']);
    expect(named).toEqual([{ n: 3 }]);
    unsubscribe();
    await client.close();
    server.close();
  });
});
