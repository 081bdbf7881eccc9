import { Command, Option, SubCommand } from 'nest-commander';
import type { AgentInfo } from '../../../libs/client/src';
import { orFail } from '../cli-error';
import { dataFromJson } from '../data-flags';
import { CommandGroup, KsiCommand, type SocketOptions } from '../ksi-command';
import { bold, dim, pretty, table } from '../output';

interface RetryOptions extends SocketOptions {
  message?: number;
}

interface SpawnOptions extends SocketOptions {
  id?: string;
  context?: string;
  permission?: string;
}

@SubCommand({ name: 'spawn', arguments: '<profile>', description: 'Start an agent from a profile composition' })
export class AgentSpawnCommand extends KsiCommand<SpawnOptions> {
  @Option({ flags: '--id <agent_id>', description: 'the agent id (default: generated)' })
  parseId(value: string): string {
    return value;
  }

  @Option({ flags: '--context <json>', description: 'variables for the composition, as a JSON object' })
  parseContext(value: string): string {
    return value;
  }

  @Option({ flags: '--permission <profile>', description: "overrides the profile's permission profile" })
  parsePermission(value: string): string {
    return value;
  }

  protected async execute([profile]: string[], options: SpawnOptions): Promise<void> {
    const agent = orFail(await this.withClient(options, (client) =>
      client.sendSingle('agent:spawn', {
        profile,
        ...(options.id && { agent_id: options.id }),
        ...(options.context && { context: dataFromJson(options.context) }),
        ...(options.permission && { permission_profile: options.permission }),
      }),
    ));
    process.stdout.write(`${pretty(agent)}\n`);
  }
}

@SubCommand({ name: 'list', description: 'Running agents' })
export class AgentListCommand extends KsiCommand {
  protected async execute(_params: string[], options: SocketOptions): Promise<void> {
    const { agents } = orFail(await this.withClient(options, (client) => client.sendSingle('agent:list', {})));
    if (agents.length === 0) {
      process.stdout.write('No agents\n');
      return;
    }
    const rows = [['AGENT', 'STATUS', 'PROFILE', 'ROLE', 'PENDING', 'FAILED', 'SESSION']].concat(
      agents.map((agent) => [
        agent.agent_id,
        agent.status,
        agent.profile,
        agent.role,
        String(agent.pending_messages),
        String(agent.failed_messages),
        agent.session_id ?? dim('-'),
      ]),
    );
    process.stdout.write(`${table(rows)}\n`);
  }
}

@SubCommand({ name: 'send', arguments: '<agent_id> <prompt>', description: "Queue a message; it becomes the agent's next turn" })
export class AgentSendCommand extends KsiCommand {
  protected async execute([agentId, prompt]: string[], options: SocketOptions): Promise<void> {
    const sent = orFail(await this.withClient(options, (client) => client.sendSingle('agent:send_message', { agent_id: agentId, message: { prompt } })));
    process.stdout.write(`${pretty(sent)}\n`);
  }
}

@SubCommand({ name: 'terminate', arguments: '<agent_id>', description: 'Stop an agent (its running turn is cancelled)' })
export class AgentTerminateCommand extends KsiCommand {
  protected async execute([agentId]: string[], options: SocketOptions): Promise<void> {
    orFail(await this.withClient(options, (client) => client.sendSingle('agent:terminate', { agent_id: agentId })));
    process.stdout.write(`terminated ${agentId}\n`);
  }
}

@SubCommand({ name: 'logs', arguments: '<agent_id>', description: "The agent's conversation so far, and its failed turns" })
export class AgentLogsCommand extends KsiCommand {
  protected async execute([agentId]: string[], options: SocketOptions): Promise<void> {
    await this.withClient(options, async (client) => {
      const agent = orFail(await client.sendSingle('agent:info', { agent_id: agentId }));
      if (!agent.session_id && agent.failed_messages === 0) {
        process.stdout.write('No turns yet\n');
        return;
      }
      if (agent.session_id) {
        const { messages } = orFail(await client.sendSingle('conversation:get', { session_id: agent.session_id }));
        process.stdout.write(`${messages.map((m) => `${dim(m.timestamp)} ${bold(m.sender)}\n${m.content}`).join('\n\n')}\n`);
      }
      if (agent.failed_messages > 0) process.stdout.write(`${failedTurns(agentId, agent)}\n`);
    });
  }
}

/** Failed turns, oldest first, and how to run them again. */
function failedTurns(agentId: string, agent: AgentInfo): string {
  const shown = [...agent.failed_turns].reverse().map((turn) => {
    const when = turn.failed_at === null ? '' : `${dim(new Date(turn.failed_at * 1000).toISOString())} `;
    return `${when}${bold(`FAILED message ${turn.message_id}`)} (${turn.code})\n${turn.prompt}\n${turn.error}`;
  });
  const hidden = agent.failed_messages - agent.failed_turns.length;
  const more = hidden > 0 ? [`… and ${hidden} older failed messages`] : [];
  return [...shown, ...more, `Run them again with: ksi agent retry ${agentId}`].join('\n\n');
}

@SubCommand({ name: 'retry', arguments: '<agent_id>', description: "Run the agent's failed messages again, before newer ones" })
export class AgentRetryCommand extends KsiCommand<RetryOptions> {
  @Option({ flags: '--message <message_id>', description: 'only this failed message (default: all)' })
  parseMessage(value: string): number {
    return Number(value);
  }

  protected async execute([agentId]: string[], options: RetryOptions): Promise<void> {
    const { retried } = orFail(
      await this.withClient(options, (client) => client.sendSingle('agent:retry', { agent_id: agentId, ...(options.message !== undefined && { message_id: options.message }) })),
    );
    process.stdout.write(retried.length === 0 ? `No failed messages for ${agentId}\n` : `retrying ${retried.length} message(s) of ${agentId}: ${retried.join(', ')}\n`);
  }
}

@Command({
  name: 'agent',
  description: 'Spawn, list, message and stop agents',
  subCommands: [AgentSpawnCommand, AgentListCommand, AgentSendCommand, AgentTerminateCommand, AgentLogsCommand, AgentRetryCommand],
})
export class AgentCommand extends CommandGroup {}

export const agentCommands = [AgentCommand, AgentSpawnCommand, AgentListCommand, AgentSendCommand, AgentTerminateCommand, AgentLogsCommand, AgentRetryCommand];
