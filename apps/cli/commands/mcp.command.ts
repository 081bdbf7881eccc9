import { Command } from 'nest-commander';
import { isErrorResult, KsiClient } from '../../../libs/client/src';
import { CliError, EXIT, usageError } from '../cli-error';
import { KsiCommand, type SocketOptions } from '../ksi-command';

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

    const { serveMcpBridge } = await import('../mcp-bridge.js');
    await serveMcpBridge(client);
    await client.close();
  }
}
