import { Command } from 'nest-commander';
import { KsiCommand, type SocketOptions } from '../ksi-command';

@Command({
  name: 'mcp',
  description: 'Serve an agent\'s KSI events as MCP tools over stdio (needs KSI_AGENT_ID and KSI_AGENT_TOKEN; the Claude CLI starts it from --mcp-config)',
})
export class McpCommand extends KsiCommand {
  protected async execute(_params: string[], options: SocketOptions): Promise<void> {
    const { runMcpBridge } = await import('../mcp-bridge.js');
    await runMcpBridge(this.socketPath(options));
  }
}
