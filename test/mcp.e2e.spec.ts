import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import * as fs from 'node:fs';
import type { KsiClient } from '../libs/client/src';
import { useFakeClaudeDaemon } from './support/completions';
import { DaemonProcess, eventually } from './support/daemon-process';

describe('the MCP bridge: a real MCP client over stdio', () => {
  const daemon = new DaemonProcess();
  let operator: KsiClient;
  beforeAll(async () => {
    await daemon.start();
    operator = daemon.client();
  });
  afterAll(async () => {
    await operator.close();
    await daemon.dispose();
  });

  it("lists exactly a restricted agent's allowed events as tools, and calls ksi_state_get", async () => {
    await operator.sendSingle('permission:set_agent', { agent_id: 'mcp-agent', profile: 'restricted' });
    // The agent's state:get reads its own namespace by default.
    await operator.sendSingle('state:set', { key: 'shared-fact', value: { answer: 42 }, namespace: 'agent:mcp-agent' });
    const { path: configPath } = (await operator.sendSingle('mcp:agent_config', { agent_id: 'mcp-agent' })) as { path: string };
    expect(fs.statSync(configPath).mode & 0o777).toBe(0o600);
    const server = JSON.parse(fs.readFileSync(configPath, 'utf8')).mcpServers.ksi;
    expect(server).toMatchObject({ type: 'stdio', command: process.execPath, args: [expect.stringMatching(/\/bin\/ksi$/), 'mcp'] });
    expect(server.env).toMatchObject({ KSI_AGENT_ID: 'mcp-agent', KSI_AGENT_TOKEN: expect.any(String), KSI_SOCKET_PATH: daemon.socketPath });

    const client = new Client({ name: 'ksi-test', version: '1' });
    await client.connect(new StdioClientTransport({ command: server.command, args: server.args, env: { ...server.env, PATH: process.env.PATH ?? '' } }));
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name).sort()).toEqual([
      // The CLI's permission prompt tool (--permission-prompt-tool mcp__ksi__approval_prompt), offered to every agent.
      'approval_prompt',
      'ksi_message_publish',
      'ksi_message_subscribe',
      'ksi_message_subscriptions',
      'ksi_message_unsubscribe',
      'ksi_state_get',
      'ksi_state_list',
      'ksi_system_discover',
      'ksi_system_health',
      'ksi_system_help',
    ]);
    expect(tools.find((tool) => tool.name === 'ksi_state_get')?.inputSchema).toMatchObject({ type: 'object', required: ['key'] });

    const got = await client.callTool({ name: 'ksi_state_get', arguments: { key: 'shared-fact' } });
    expect(got.isError).toBeFalsy();
    expect(JSON.parse((got.content as { text: string }[])[0].text)).toMatchObject({ found: true, value: { answer: 42 } });
    const refused = await client.callTool({ name: 'ksi_state_set', arguments: { key: 'x', value: 1 } });
    expect(refused.isError).toBe(true);
    const invalid = await client.callTool({ name: 'ksi_state_get', arguments: {} });
    expect(invalid.isError).toBe(true);
    expect((invalid.content as { text: string }[])[0].text).toContain('invalid_params');

    const status = (await operator.sendSingle('mcp:status')) as { sessions: { agent_id: string }[] };
    expect(status.sessions.map((session) => session.agent_id)).toEqual(['mcp-agent']);
    await client.close();
    await eventually(async () => ((await operator.sendSingle('mcp:status')) as { sessions: unknown[] }).sessions.length === 0);
  });
});

describe("a managed agent's MCP config when its token is issued again", () => {
  const { daemon, send } = useFakeClaudeDaemon();

  it('carries the new token, so the next tool-using turn still reaches KSI through the bridge', async () => {
    const spawned = await send('agent:spawn', { profile: 'base_agent', agent_id: 'sup', permission_profile: 'supervised' });
    const configPath = spawned.token_written_to as string;
    const { token } = await send('permission:issue_token', { agent_id: 'sup' });
    expect(JSON.parse(fs.readFileSync(configPath, 'utf8')).mcpServers.ksi.env.KSI_AGENT_TOKEN).toBe(token);
    expect(fs.statSync(configPath).mode & 0o777).toBe(0o600);
    // The token travels to the MCP module in an internal event; the event log keeps it redacted.
    const { events } = await send('monitor:get_events', { patterns: ['permission:token_issued'] });
    expect(events.map((event: { data: unknown }) => event.data)).toContainEqual({ agent_id: 'sup', token: '[redacted]' });
    expect(JSON.stringify(events)).not.toContain(token);

    // Bash(git status*) is allowed by the profile's rule, which the CLI asks through mcp__ksi__approval_prompt.
    const prompt = `[[tool_use:Bash]] [[tool_input:${JSON.stringify({ command: 'git status' })}]] after the new token`;
    await send('agent:send_message', { agent_id: 'sup', message: { prompt } });
    const info = await eventually(async () => {
      const current = await send('agent:info', { agent_id: 'sup' });
      return current.pending_messages === 0 && current.status !== 'busy' ? current : undefined;
    }, 30_000, 'the turn to end');
    expect(info).toMatchObject({ status: 'idle', failed_messages: 0 });
    expect(daemon.answered().filter((entry) => entry.stdin === prompt)).toHaveLength(1);
  });
});
