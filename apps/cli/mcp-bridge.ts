import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { CallToolRequestSchema, ListToolsRequestSchema, type Tool } from '@modelcontextprotocol/sdk/types.js';
import { APPROVAL_PROMPT_TOOL, isErrorResult, KsiClient, KsiEventError, mcpToolName, type ApprovalAnswer, type McpToolDescription } from '../../libs/client/src';
import { CliError, EXIT, usageError } from './cli-error';

/** The bridge's own plumbing, not tools for the agent (approval:prompt is offered as approval_prompt, below). */
const BRIDGE_EVENTS = new Set(['system:identify', 'mcp:session_start', 'approval:prompt']);

/** What the Claude CLI sends its permission prompt tool (`--permission-prompt-tool mcp__ksi__approval_prompt`). */
const APPROVAL_PROMPT: Tool = {
  name: APPROVAL_PROMPT_TOOL,
  description: 'Asks KSI whether this agent may use a tool its allow list does not cover; answers {"behavior":"allow","updatedInput":{...}} or {"behavior":"deny","message":"..."}',
  inputSchema: {
    type: 'object',
    properties: { tool_name: { type: 'string' }, input: { type: 'object' }, tool_use_id: { type: 'string' } },
    required: ['tool_name', 'input'],
  },
};

/**
 * `ksi mcp`: identifies as the agent its environment names and serves that agent's events until the
 * Claude CLI or the daemon goes away. Its own file, loaded by `ksi mcp` alone: the MCP SDK is a large
 * part of what other commands would load.
 */
export async function runMcpBridge(socketPath: string): Promise<void> {
  const agentId = process.env.KSI_AGENT_ID;
  const token = process.env.KSI_AGENT_TOKEN;
  if (!agentId || !token) throw usageError('ksi mcp needs KSI_AGENT_ID and KSI_AGENT_TOKEN in its environment (mcp:agent_config writes them)');
  const client = new KsiClient({ socketPath });
  try {
    const identified = await client.sendSingle('system:identify', { agent_id: agentId, token });
    if (isErrorResult(identified)) throw new CliError(EXIT.daemonError, `KSI refused agent ${agentId}: ${identified.error}`);
    await client.sendSingle('mcp:session_start');
    await serveMcpBridge(client);
  } finally {
    await client.close();
  }
}

/** Serves the agent's KSI events as MCP tools over stdio until the CLI or the daemon goes away. */
async function serveMcpBridge(client: KsiClient): Promise<void> {
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
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: [...tools, APPROVAL_PROMPT] }));
  server.setRequestHandler(CallToolRequestSchema, async (request) => {
    if (request.params.name === APPROVAL_PROMPT_TOOL) return { content: [{ type: 'text' as const, text: JSON.stringify(await askApproval(client, request.params.arguments ?? {})) }] };
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
}

/**
 * The decision, waited for as long as it takes (a person may take minutes; the daemon denies at the
 * profile's timeout). Whatever goes wrong is a denial the model can read, never an allowed call.
 */
async function askApproval(client: KsiClient, args: Record<string, unknown>): Promise<ApprovalAnswer> {
  try {
    const reply = await client.request('approval:prompt', args, 0);
    if ('error' in reply) return { behavior: 'deny', message: `KSI could not decide (${reply.code}): ${reply.error}` };
    if (isErrorResult(reply.data)) return { behavior: 'deny', message: `KSI could not decide (${reply.data.code}): ${reply.data.error}` };
    return reply.data as ApprovalAnswer;
  } catch (error) {
    return { behavior: 'deny', message: `KSI could not decide: ${(error as Error).message}` };
  }
}
