import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { CallToolRequestSchema, ListToolsRequestSchema, type Tool } from '@modelcontextprotocol/sdk/types.js';
import { Command } from 'nest-commander';
import { isErrorResult, KsiClient, KsiEventError, mcpToolName, type McpToolDescription } from '../../../libs/client/src';
import { CliError, EXIT, usageError } from '../cli-error';
import { KsiCommand, type SocketOptions } from '../ksi-command';

/** The bridge's own plumbing, not tools for the agent. */
const BRIDGE_EVENTS = new Set(['system:identify', 'mcp:session_start']);

@Command({
  name: 'mcp',
  description: 'Serve an agent\'s KSI events as MCP tools over stdio (needs KSI_AGENT_ID and KSI_AGENT_TOKEN; the Claude CLI starts it from --mcp-config)',
})
export class McpCommand extends KsiCommand {
  protected async execute(_params: string[], options: SocketOptions): Promise<void> {
    const agentId = process.env.KSI_AGENT_ID;
    const token = process.env.KSI_AGENT_TOKEN;
    if (!agentId || !token) throw usageError('ksi mcp needs KSI_AGENT_ID and KSI_AGENT_TOKEN in its environment (mcp:agent_config writes them)');
    const client = new KsiClient({ socketPath: this.socketPath(options) });
    const identified = await client.sendSingle('system:identify', { agent_id: agentId, token });
    if (isErrorResult(identified)) throw new CliError(EXIT.daemonError, `KSI refused agent ${agentId}: ${identified.error}`);
    await client.sendSingle('mcp:session_start');

    // Discovery, asked as the agent, lists exactly the events it may send.
    const { events } = await client.sendSingle('system:discover', { format_style: 'mcp' });
    const toolEvents = new Map<string, string>();
    const tools: Tool[] = Object.values(events as Record<string, McpToolDescription>)
      .filter((description) => !BRIDGE_EVENTS.has(description.name))
      .map((description) => {
      const name = mcpToolName(description.name);
      toolEvents.set(name, description.name);
      return { name, description: `${description.description} (KSI event ${description.name})`, inputSchema: description.inputSchema as Tool['inputSchema'] };
    });

    const server = new Server({ name: 'ksi', version: '1' }, { capabilities: { tools: {} } });
    server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools }));
    server.setRequestHandler(CallToolRequestSchema, async (request) => {
      const event = toolEvents.get(request.params.name);
      if (!event) return { content: [{ type: 'text' as const, text: `Unknown tool ${request.params.name}` }], isError: true };
      try {
        const data = await client.sendEvent(event, request.params.arguments ?? {});
        return { content: [{ type: 'text' as const, text: JSON.stringify(data, null, 2) }], isError: isErrorResult(data) };
      } catch (error) {
        const text = error instanceof KsiEventError ? `${error.code}: ${error.message}` : (error as Error).message;
        return { content: [{ type: 'text' as const, text }], isError: true };
      }
    });
    const transport = new StdioServerTransport();
    const finished = new Promise<void>((resolve) => {
      transport.onclose = resolve;
      client.onClose(resolve);
      process.stdin.once('end', resolve);
    });
    await server.connect(transport);
    await finished;
    await server.close();
    await client.close();
  }
}
