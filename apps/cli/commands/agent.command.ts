import { Command, Option, SubCommand } from 'nest-commander';
import type { AgentInfo, ConversationMessage } from '../../../libs/client/src';
import { CliError, EXIT, orFail } from '../cli-error';
import { dataFromJson } from '../data-flags';
import { CommandGroup, DataCommand, KsiCommand, type OutputOptions, type SocketOptions } from '../ksi-command';
import { bold, dim, pretty, table } from '../output';

interface RetryOptions extends OutputOptions {
  message?: number;
}

interface LogsOptions extends SocketOptions {
  follow?: boolean;
}

interface SpawnOptions extends OutputOptions {
  id?: string;
  context?: string;
  permission?: string;
}

@SubCommand({ name: 'spawn', arguments: '<profile>', description: 'Start an agent from a profile composition' })
export class AgentSpawnCommand extends DataCommand<SpawnOptions> {
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
    this.print(options, agent, () => pretty(agent));
  }
}

@SubCommand({ name: 'list', aliases: ['ls'], description: 'Running agents (-o wide: model, permissions, restarts, node, workspace)' })
export class AgentListCommand extends DataCommand {
  protected async execute(_params: string[], options: OutputOptions): Promise<void> {
    const listed = orFail(await this.withClient(options, (client) => client.sendSingle('agent:list', {})));
    this.print(options, listed, (wide) => renderAgents(listed.agents, wide));
  }
}

function renderAgents(agents: AgentInfo[], wide: boolean): string {
  if (agents.length === 0) return 'No agents';
  const head = ['AGENT', 'STATUS', 'PROFILE', 'ROLE', 'PENDING', 'FAILED', 'SESSION'];
  const rows = agents.map((agent) => [
    agent.agent_id,
    agent.status,
    agent.profile,
    agent.role,
    String(agent.pending_messages),
    String(agent.failed_messages),
    agent.session_id ?? dim('-'),
    ...(wide ? [agent.model, agent.permission_profile, String(agent.restarts), agent.node_id ?? dim('-'), new Date(agent.created_at * 1000).toISOString(), agent.sandbox ?? dim('-')] : []),
  ]);
  return table([[...head, ...(wide ? ['MODEL', 'PERMISSIONS', 'RESTARTS', 'NODE', 'CREATED', 'WORKSPACE'] : [])], ...rows]);
}

@SubCommand({ name: 'send', arguments: '<agent_id> <prompt>', description: "Queue a message; it becomes the agent's next turn" })
export class AgentSendCommand extends DataCommand {
  protected async execute([agentId, prompt]: string[], options: OutputOptions): Promise<void> {
    const sent = orFail(await this.withClient(options, (client) => client.sendSingle('agent:send_message', { agent_id: agentId, message: { prompt } })));
    this.print(options, sent, () => pretty(sent));
  }
}

@SubCommand({ name: 'terminate', aliases: ['stop'], arguments: '<agent_id>', description: 'Stop an agent (its running turn is cancelled)' })
export class AgentTerminateCommand extends DataCommand {
  protected async execute([agentId]: string[], options: OutputOptions): Promise<void> {
    const terminated = orFail(await this.withClient(options, (client) => client.sendSingle('agent:terminate', { agent_id: agentId })));
    this.print(options, terminated, () => `terminated ${agentId}`);
  }
}

@SubCommand({ name: 'logs', arguments: '<agent_id>', description: "The agent's conversation so far, and its failed turns" })
export class AgentLogsCommand extends KsiCommand<LogsOptions> {
  @Option({ flags: '-f, --follow', description: 'then print its turns as they finish, until Ctrl-C' })
  parseFollow(): boolean {
    return true;
  }

  protected async execute([agentId]: string[], options: LogsOptions): Promise<void> {
    await this.withClient(options, async (client) => {
      const agent = orFail(await client.sendSingle('agent:info', { agent_id: agentId }));
      if (!agent.session_id && agent.failed_messages === 0) process.stdout.write('No turns yet\n');
      let printed = 0;
      const seenFailures = new Set(agent.failed_turns.map((turn) => turn.message_id));
      if (agent.session_id) {
        const { messages } = orFail(await client.sendSingle('conversation:get', { session_id: agent.session_id }));
        if (messages.length > 0) process.stdout.write(`${messages.map(renderMessage).join('\n\n')}\n`);
        printed = messages.length;
      }
      if (agent.failed_messages > 0) process.stdout.write(`${failedTurns(agentId, agent)}\n`);
      if (!options.follow) return;
      // Each finished turn or agent event re-reads the conversation and prints what is new, one read at a time.
      let reading = Promise.resolve();
      let stop: (failure?: Error) => void = () => undefined;
      const ended = new Promise<void>((resolve, reject) => (stop = (failure) => (failure ? reject(failure) : resolve())));
      // It may fail before the race below is awaited.
      ended.catch(() => undefined);
      const printNew = async () => {
        const now = await client.sendSingle('agent:info', { agent_id: agentId });
        // The agent was terminated (or its record is gone): nothing more will come.
        if ('error' in now) return stop(new CliError(EXIT.daemonError, `Stopped following ${agentId}: ${String(now.error)}`));
        if (now.session_id) {
          const { messages } = orFail(await client.sendSingle('conversation:get', { session_id: now.session_id }));
          for (const message of messages.slice(printed)) process.stdout.write(`\n${renderMessage(message)}\n`);
          printed = Math.max(printed, messages.length);
        }
        for (const turn of [...now.failed_turns].reverse().filter((failed) => !seenFailures.has(failed.message_id))) {
          seenFailures.add(turn.message_id);
          process.stdout.write(`\n${renderFailure(turn)}\n`);
        }
      };
      const next = () => (reading = reading.then(printNew).catch((error: Error) => stop(error)));
      client.subscribe('monitor:event', next);
      await client.sendSingle('monitor:subscribe', { patterns: ['completion:result', 'completion:error', 'agent:*'] });
      // A turn that ended between the first read and the subscription is printed now.
      next();
      await reading;
      process.stderr.write(dim(`Following ${agentId}'s turns — Ctrl-C to stop\n`));
      await Promise.race([this.untilStopped(client), ended]);
    });
  }
}

const renderMessage = (message: ConversationMessage) => `${dim(message.timestamp)} ${bold(message.sender)}\n${message.content}`;

function renderFailure(turn: AgentInfo['failed_turns'][number]): string {
  const when = turn.failed_at === null ? '' : `${dim(new Date(turn.failed_at * 1000).toISOString())} `;
  return `${when}${bold(`FAILED message ${turn.message_id}`)} (${turn.code})\n${turn.prompt}\n${turn.error}`;
}

/** Failed turns, oldest first, and how to run them again. */
function failedTurns(agentId: string, agent: AgentInfo): string {
  const shown = [...agent.failed_turns].reverse().map(renderFailure);
  const hidden = agent.failed_messages - agent.failed_turns.length;
  const more = hidden > 0 ? [`… and ${hidden} older failed messages`] : [];
  return [...shown, ...more, `Run them again with: ksi agent retry ${agentId}`].join('\n\n');
}

@SubCommand({ name: 'retry', arguments: '<agent_id>', description: "Run the agent's failed messages again, before newer ones" })
export class AgentRetryCommand extends DataCommand<RetryOptions> {
  @Option({ flags: '--message <message_id>', description: 'only this failed message (default: all)' })
  parseMessage(value: string): number {
    return Number(value);
  }

  protected async execute([agentId]: string[], options: RetryOptions): Promise<void> {
    const outcome = orFail(
      await this.withClient(options, (client) => client.sendSingle('agent:retry', { agent_id: agentId, ...(options.message !== undefined && { message_id: options.message }) })),
    );
    const { retried } = outcome;
    this.print(options, outcome, () => (retried.length === 0 ? `No failed messages for ${agentId}` : `retrying ${retried.length} message(s) of ${agentId}: ${retried.join(', ')}`));
  }
}

@Command({
  name: 'agent',
  description: 'Spawn, list, message and stop agents',
  subCommands: [AgentSpawnCommand, AgentListCommand, AgentSendCommand, AgentTerminateCommand, AgentLogsCommand, AgentRetryCommand],
})
export class AgentCommand extends CommandGroup {}

export const agentCommands = [AgentCommand, AgentSpawnCommand, AgentListCommand, AgentSendCommand, AgentTerminateCommand, AgentLogsCommand, AgentRetryCommand];
