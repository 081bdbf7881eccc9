import { Inject, Injectable } from '@nestjs/common';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { permissionIssueToken, type McpStatus } from '../../../libs/client/src';
import { CLOCK, type Clock } from '../../common/clock';
import { installRoot, KSI_CONFIG, type KsiConfig } from '../../config/config';
import { EventBus } from '../../events/event-bus';
import type { ClientConnection, EventContext } from '../../events/event-context';
import { ShutdownHandler } from '../../lifecycle/shutdown-handler.decorator';

interface Session {
  agentId: string;
  since: number;
}

/**
 * The MCP bridge's daemon side: writes each agent's --mcp-config (a stdio server, `ksi mcp`, with
 * the agent's identity in its environment) and tracks the bridges connected to the socket.
 */
@Injectable()
export class McpService {
  private readonly sessions = new Map<ClientConnection, Session>();

  constructor(
    @Inject(KSI_CONFIG) private readonly config: KsiConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly bus: EventBus,
  ) {}

  /** Issues the agent a token and writes its MCP config (0600, absolute paths); returns the file. */
  async writeAgentConfig(agentId: string, context?: EventContext): Promise<string> {
    const { token } = await this.bus.requestOne(permissionIssueToken, { agent_id: agentId }, context);
    const dir = path.join(this.config.varDir, 'tmp');
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const file = path.join(dir, `${agentId}_mcp_config.json`);
    const body = {
      mcpServers: {
        ksi: {
          type: 'stdio',
          command: process.execPath,
          args: [path.join(installRoot(), 'bin', 'ksi'), 'mcp'],
          env: { KSI_AGENT_ID: agentId, KSI_AGENT_TOKEN: token, KSI_SOCKET_PATH: this.config.socketPath },
        },
      },
    };
    fs.writeFileSync(file, `${JSON.stringify(body, null, 2)}\n`, { mode: 0o600 });
    return file;
  }

  startSession(connection: ClientConnection, agentId: string): void {
    if (this.sessions.has(connection)) return;
    this.sessions.set(connection, { agentId, since: this.clock.now() / 1000 });
    connection.onClose(() => this.sessions.delete(connection));
  }

  status(): McpStatus {
    const sessions = [...this.sessions].map(([connection, session]) => ({ agent_id: session.agentId, client_id: connection.id, since: session.since }));
    return { running: sessions.length > 0, sessions };
  }

  /** Ends bridge connections (all, or one agent's); their MCP servers exit and the CLI restarts them. */
  clear(agentId?: string): number {
    let cleared = 0;
    for (const [connection, session] of this.sessions) {
      if (agentId !== undefined && session.agentId !== agentId) continue;
      connection.end();
      this.sessions.delete(connection);
      cleared++;
    }
    return cleared;
  }

  /** Critical at shutdown: bridges are told to go before the socket closes under them. */
  @ShutdownHandler('mcp')
  stop(): void {
    this.clear();
  }
}
