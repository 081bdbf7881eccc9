import type { KsiClient } from '../libs/client/src';
import { useDaemon } from './support/daemon-process';
import { RawConnection } from './support/raw-connection';

/** The Python client's line limit (asyncio's default stream limit): it calls system:discover on connect. */
const PYTHON_CLIENT_LINE_LIMIT = 65_536;

describe('health and discovery (real daemon)', () => {
  const { daemon, client: connected } = useDaemon();
  let client: KsiClient;
  beforeAll(() => (client = connected()));

  it('system:health reports version, pid, uptime, modules, events, database and memory', async () => {
    const health = await client.sendSingle('system:health');
    expect(health).toMatchObject({
      status: 'healthy',
      version: expect.stringMatching(/^\d+\.\d+\.\d+/),
      pid: daemon.pid,
      socket: daemon.socketPath,
      database: { status: 'ok' },
      connections: 1,
    });
    expect(health.modules).toEqual(expect.arrayContaining(['state', 'health', 'discovery']));
    expect(health.modules_loaded).toBe(health.modules.length);
    expect(health.uptime).toBeGreaterThan(0);
    expect(health.memory.rss_mb).toBeGreaterThan(0);
  });

  it('system:discover lists every event with kind, module, handler, summary and the JSON Schema of its parameters, and its result with include_results', async () => {
    const discover = await client.sendSingle('system:discover');
    expect(discover.total).toBe(Object.keys(discover.events).length);
    expect(discover.total).toBe((await client.sendSingle('system:health')).events_registered);
    expect(discover.namespaces).toEqual(expect.arrayContaining(['async_state', 'module', 'state', 'system']));
    expect(discover.events['state:set']).toMatchObject({
      kind: 'request',
      module: 'state',
      handler: 'StateHandlers.set',
      summary: expect.any(String),
      parameters: { type: 'object', required: ['key', 'value'], properties: { namespace: { type: 'string', description: expect.stringContaining('agent:<its id>') } } },
    });
    expect(discover.events['state:get']).not.toHaveProperty('result');

    const withResults = await client.sendSingle('system:discover', { include_results: true });
    expect(withResults.events['state:get']).toMatchObject({
      parameters: { required: ['key'] },
      result: { type: 'object', required: expect.arrayContaining(['found', 'namespace', 'key']), properties: { found: { type: 'boolean' }, expires_at: { type: 'number' } } },
    });
    expect(withResults.events['system:health']).toMatchObject({ result: { properties: { last_shutdown: { oneOf: expect.any(Array) } } } });
    expect(withResults.events['completion:status']).toMatchObject({ result: { anyOf: [{ required: expect.arrayContaining(['request_id', 'status']) }, { required: expect.arrayContaining(['status_counts']) }] } });
  });

  it('keeps the default system:discover reply line under the Python client’s 64 KiB line limit', async () => {
    const connection = await RawConnection.open(daemon.socketPath);
    let wire = '';
    connection.socket.on('data', (chunk: string) => (wire += chunk));
    // What the Python EventClient sends on connect.
    const reply = await connection.request({ event: 'system:discover', data: {}, correlation_id: '0b7c6f2e-python-client' });
    connection.close();
    // Every event with its kind and parameters, and the pushes, still fit.
    expect(reply.data.events['state:set']).toMatchObject({ kind: 'request', parameters: { required: ['key', 'value'] } });
    expect(reply.data.pushes['completion:progress']).toEqual({ kind: 'push', summary: expect.any(String) });
    const line = wire.slice(0, wire.indexOf('\n'));
    expect(JSON.parse(line)).toEqual(reply);
    expect(Buffer.byteLength(line) + '\n'.length).toBeLessThanOrEqual(PYTHON_CLIENT_LINE_LIMIT);
  });

  it('system:discover lists the events the daemon pushes apart, with their payload with include_results, and no internal event', async () => {
    const discover = await client.sendSingle('system:discover');
    expect(discover.pushes?.['system:shutdown_notification']).toEqual({ kind: 'push', summary: expect.any(String) });
    const withPayloads = await client.sendSingle('system:discover', { include_results: true });
    expect(withPayloads.pushes?.['system:shutdown_notification']).toEqual({
      kind: 'push',
      summary: expect.any(String),
      payload: expect.objectContaining({ type: 'object', required: ['reason', 'timestamp'], properties: { reason: { type: 'string', const: 'daemon_shutdown' }, timestamp: expect.objectContaining({ type: 'number' }) } }),
    });
    expect(Object.keys(discover.events)).not.toContain('system:shutdown_notification');
    const shown = [...Object.keys(discover.events), ...Object.keys(discover.pushes ?? {})];
    for (const internal of ['system:ready', 'system:shutdown_started', 'system:shutdown_complete', 'checkpoint:write', 'checkpoint:collect', 'system:startup']) expect(shown).not.toContain(internal);
  });

  it('filters events and pushes by namespace and by event glob, and leaves the schemas out without detail', async () => {
    const state = await client.sendSingle('system:discover', { namespace: 'state' });
    expect(Object.keys(state.events).sort()).toEqual(['state:delete', 'state:get', 'state:list', 'state:set']);
    expect(state.pushes).toEqual({});
    const glob = await client.sendSingle('system:discover', { event: 'async_state:p*' });
    expect(Object.keys(glob.events).sort()).toEqual(['async_state:pop', 'async_state:push']);
    const shutdown = await client.sendSingle('system:discover', { namespace: 'system', event: 'system:shutdown*', detail: false, include_results: true });
    expect(shutdown.events).toEqual({ 'system:shutdown': { kind: 'request', module: 'shutdown', handler: 'ShutdownHandlers.shutdown', summary: expect.any(String) } });
    expect(shutdown.pushes).toEqual({ 'system:shutdown_notification': { kind: 'push', summary: expect.any(String) } });
  });

  it('renders compact and mcp formats', async () => {
    const compact = await client.sendSingle('system:discover', { namespace: 'state', format_style: 'compact', include_results: true });
    expect(compact.events['state:get']).toEqual({
      k: 'request',
      m: 'state',
      h: 'StateHandlers.get',
      s: expect.any(String),
      p: [
        ['key', 'string', true, null, 'The key'],
        ['namespace', 'string', false, null, "Namespace of the key (default: global; an agent's: agent:<its id>)"],
      ],
      r: [
        ['value', 'any', true, null, 'The value; null when not found'],
        ['found', 'boolean', true, null, ''],
        ['namespace', 'string', true, null, 'The namespace the request worked in'],
        ['key', 'string', true, null, ''],
        ['expires_at', 'number', false, null, expect.any(String)],
      ],
    });
    expect((await client.sendSingle('system:discover', { event: 'state:get', format_style: 'compact' })).events['state:get']).not.toHaveProperty('r');
    // A union result lists the fields of all its options, required only where every option has them.
    const compactHelp = await client.sendSingle('system:discover', { event: 'system:help', format_style: 'compact', include_results: true });
    expect(compactHelp.events['system:help']).toMatchObject({ r: expect.arrayContaining([['event', 'string', false, null, ''], ['example', 'string', false, null, expect.any(String)]]) });
    const compactProgress = await client.sendSingle('system:discover', { event: 'completion:progress', format_style: 'compact', include_results: true });
    expect(compactProgress.pushes?.['completion:progress']).toMatchObject({
      d: expect.arrayContaining([['request_id', 'string', true, null, ''], ['status', 'string', true, null, ''], ['delta', 'string', false, null, expect.any(String)], ['error_status', 'number|null', false, null, expect.any(String)]]),
    });
    const compactPush = await client.sendSingle('system:discover', { event: 'system:shutdown_notification', format_style: 'compact', include_results: true });
    expect(compactPush.pushes?.['system:shutdown_notification']).toEqual({
      k: 'push',
      s: expect.any(String),
      d: [
        ['reason', 'string', true, null, ''],
        ['timestamp', 'number', true, null, 'Epoch seconds'],
      ],
    });
    const mcp = await client.sendSingle('system:discover', { event: 'state:get', format_style: 'mcp' });
    expect(mcp.events['state:get']).toEqual({ name: 'state:get', description: expect.any(String), inputSchema: expect.objectContaining({ type: 'object', required: ['key'] }) });
    // Tools an agent may call: nothing pushed.
    expect(mcp).not.toHaveProperty('pushes');
  });

  it('system:help describes one event with its result and example commands, a pushed event with its payload and an example line, and names unknown ones', async () => {
    const help = (await client.sendSingle('system:help', { event: 'state:get' })) as { examples: { command: string }[] };
    expect(help).toMatchObject({ event: 'state:get', kind: 'request', module: 'state', parameters: { required: ['key'] }, result: { properties: { found: { type: 'boolean' } } } });
    expect(help.examples.map((example: { command: string }) => example.command)).toEqual([
      "npx ksi send state:get --key '<key>'",
      `echo '{"event":"state:get","data":{"key":"<key>"}}' | nc -N -U ${daemon.socketPath}`,
    ]);
    expect(await client.sendSingle('system:help', { event: 'state:nope' })).toMatchObject({ error: 'Event not found: state:nope', code: 'not_found' });

    const push = await client.sendSingle('system:help', { event: 'system:shutdown_notification' });
    expect(push).toEqual({
      event: 'system:shutdown_notification',
      kind: 'push',
      summary: expect.any(String),
      payload: expect.objectContaining({ required: ['reason', 'timestamp'] }),
      example: '{"event":"system:shutdown_notification","data":{"reason":"daemon_shutdown","timestamp":1},"timestamp":1,"push":true}',
    });
    // A union payload's example line shows its first shape, its discriminator included.
    const progress = await client.sendSingle('system:help', { event: 'completion:progress' });
    expect(progress).toMatchObject({ payload: { oneOf: expect.any(Array) } });
    expect(JSON.parse((progress as { example: string }).example)).toMatchObject({
      event: 'completion:progress',
      data: { request_id: '<request_id>', session_id: '<session_id>', attempt: 1, status: 'calling_llm', resume_session_id: '<resume_session_id>' },
      push: true,
    });
    expect(await client.sendSingle('system:help', { event: 'completion:status' })).toMatchObject({ result: { anyOf: expect.any(Array) } });
    expect(await client.sendSingle('system:help', { event: 'system:shutdown_notification', format_style: 'mcp' })).toMatchObject({ code: 'not_found' });
    for (const internal of ['checkpoint:write', 'system:shutdown_complete']) expect(await client.sendSingle('system:help', { event: internal })).toMatchObject({ code: 'not_found' });
    await expect(client.sendEvent('system:help' as string, {})).rejects.toMatchObject({ code: 'invalid_params' });
  });

  it('module:list, module:events and module:inspect describe the modules', async () => {
    const list = await client.sendSingle('module:list');
    const state = list.modules.find((module: { name: string }) => module.name === 'state');
    expect(state).toMatchObject({ handlers: 11, events: expect.arrayContaining(['state:get', 'async_state:pop']) });
    const events = await client.sendSingle('module:events');
    expect(events.events['state:get']).toEqual([{ module: 'state', handler: 'StateHandlers.get' }]);
    const inspect = await client.sendSingle('module:inspect', { module_name: 'health' });
    expect(inspect.module).toMatchObject({ name: 'health', handlers: [{ event: 'system:health' }], stats: { handler_count: 1 } });
    expect(await client.sendSingle('module:inspect', { module_name: 'nope' })).toMatchObject({ code: 'not_found' });
  });
});
