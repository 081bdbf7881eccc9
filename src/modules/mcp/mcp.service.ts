import { Inject, Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { permissionIssueToken, permissionTokenIssued, type McpStatus, type PayloadOf } from '../../../libs/client/src';
import { CLOCK, type Clock } from '../../common/clock';
import { KSI_CONFIG, type KsiConfig } from '../../config/config';
import { installRoot } from '../../config/install-root';
import { EventBus } from '../../events/event-bus';
import type { ClientConnection, EventContext } from '../../events/event-context';
import { Listens } from '../../events/handles.decorator';
import { ShutdownHandler } from '../../lifecycle/shutdown-handler.decorator';

interface Session {
  agentId: string;
  since: number;
}

/**
 * The MCP bridge's daemon side: writes each agent's --mcp-config (a stdio server, `ksi mcp`, with
 * the agent's identity in its environment), rewrites it when the agent's token is issued again, and
 * tracks the bridges connected to the socket.
 */
@Injectable()
export class McpService {
  private readonly sessions = new Map<ClientConnection, Session>();

  constructor(
    @Inject(KSI_CONFIG) private readonly config: KsiConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly bus: EventBus,
  ) {}

  /** Issues the agent a token and writes its MCP config with it; returns the file. */
  async writeAgentConfig(agentId: string, context?: EventContext): Promise<string> {
    const { token } = await this.bus.requestOne(permissionIssueToken, { agent_id: agentId }, context);
    return this.write(agentId, token);
  }

  /**
   * A token issued for an agent that has an MCP config here (however it was issued) replaces the one
   * in its config: the old one identifies nobody, and the agent's next turn would fail. Synchronous, so
   * the file is current before permission:issue_token answers.
   */
  @Listens(permissionTokenIssued)
  tokenIssued({ agent_id, token }: PayloadOf<typeof permissionTokenIssued>): void {
    if (fs.existsSync(this.configFile(agent_id))) this.write(agent_id, token);
  }

  /**
   * The config holds the token (the CLI hands the server's env to `ksi mcp`), so it is the daemon user's
   * alone (0600). Written to a new file and renamed: a CLI starting meanwhile reads the old config or the
   * new one, never half of one, and the mode is 0600 even when the old file's was widened.
   */
  private write(agentId: string, token: string): string {
    const file = this.configFile(agentId);
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
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
    const written = `${file}.${randomBytes(6).toString('hex')}`;
    fs.writeFileSync(written, `${JSON.stringify(body, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
    fs.renameSync(written, file);
    return file;
  }

  private configFile(agentId: string): string {
    return path.join(this.config.varDir, 'tmp', `${agentId}_mcp_config.json`);
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
