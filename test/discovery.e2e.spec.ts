import type { KsiClient } from '../libs/client/src';
import { useDaemon } from './support/daemon-process';

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

  it('system:discover lists every event with module, handler, summary and a JSON Schema', async () => {
    const discover = await client.sendSingle('system:discover');
    expect(discover.total).toBe(Object.keys(discover.events).length);
    expect(discover.total).toBe((await client.sendSingle('system:health')).events_registered);
    expect(discover.namespaces).toEqual(expect.arrayContaining(['async_state', 'module', 'state', 'system']));
    expect(discover.events['state:set']).toMatchObject({
      module: 'state',
      handler: 'StateHandlers.set',
      summary: expect.any(String),
      parameters: { type: 'object', required: ['key', 'value'], properties: { namespace: { type: 'string', description: expect.stringContaining('agent:<its id>') } } },
    });
    expect(Object.keys(discover.events)).not.toContain('system:ready');
  });

  it('filters by namespace and by event glob', async () => {
    const state = await client.sendSingle('system:discover', { namespace: 'state' });
    expect(Object.keys(state.events).sort()).toEqual(['state:delete', 'state:get', 'state:list', 'state:set']);
    const glob = await client.sendSingle('system:discover', { event: 'async_state:p*' });
    expect(Object.keys(glob.events).sort()).toEqual(['async_state:pop', 'async_state:push']);
  });

  it('renders compact and mcp formats', async () => {
    const compact = await client.sendSingle('system:discover', { namespace: 'state', format_style: 'compact' });
    expect(compact.events['state:get']).toEqual({
      m: 'state',
      h: 'StateHandlers.get',
      s: expect.any(String),
      p: [
        ['key', 'string', true, null, 'The key'],
        ['namespace', 'string', false, null, "Namespace of the key (default: global; an agent's: agent:<its id>)"],
      ],
    });
    const mcp = await client.sendSingle('system:discover', { event: 'state:get', format_style: 'mcp' });
    expect(mcp.events['state:get']).toMatchObject({ name: 'state:get', description: expect.any(String), inputSchema: { type: 'object', required: ['key'] } });
  });

  it('system:help describes one event with example commands, and names unknown ones', async () => {
    const help = (await client.sendSingle('system:help', { event: 'state:get' })) as { examples: { command: string }[] };
    expect(help).toMatchObject({ event: 'state:get', module: 'state', parameters: { required: ['key'] } });
    expect(help.examples.map((example: { command: string }) => example.command)).toEqual([
      "npx ksi send state:get --key '<key>'",
      `echo '{"event":"state:get","data":{"key":"<key>"}}' | nc -U ${daemon.socketPath}`,
    ]);
    expect(await client.sendSingle('system:help', { event: 'state:nope' })).toMatchObject({ error: 'Event not found: state:nope', code: 'not_found' });
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
