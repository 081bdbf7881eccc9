import { Command, Option, SubCommand } from 'nest-commander';
import type { ConversationMessage } from '../../../libs/client/src';
import { orFail } from '../cli-error';
import { CommandGroup, DataCommand, KsiCommand, type OutputOptions, type SocketOptions } from '../ksi-command';
import { bold, dim, table } from '../output';

const render = (messages: ConversationMessage[]) => messages.map((m) => `${dim(m.timestamp)} ${bold(m.sender)}\n${m.content}`).join('\n\n');

@SubCommand({ name: 'list', description: 'Conversations, newest first' })
export class ConversationListCommand extends DataCommand {
  protected async execute(_params: string[], options: OutputOptions): Promise<void> {
    const listed = orFail(await this.withClient(options, (client) => client.sendSingle('conversation:list', {})));
    this.print(options, listed, () =>
      listed.total === 0
        ? 'No conversations'
        : table([['SESSION', 'STARTED AS', 'MESSAGES', 'LAST']].concat(listed.conversations.map((c) => [c.session_id, c.root_session_id, String(c.message_count), c.last_timestamp]))),
    );
  }
}

@SubCommand({ name: 'show', arguments: '<session_id>', description: 'The messages of a conversation (any of its sessions)' })
export class ConversationShowCommand extends DataCommand {
  protected async execute([sessionId]: string[], options: OutputOptions): Promise<void> {
    const conversation = orFail(await this.withClient(options, (client) => client.sendSingle('conversation:get', { session_id: sessionId })));
    this.print(options, conversation, () => render(conversation.messages));
  }
}

@SubCommand({ name: 'search', arguments: '<query>', description: 'Conversations containing a text' })
export class ConversationSearchCommand extends DataCommand {
  protected async execute([query]: string[], options: OutputOptions): Promise<void> {
    const found = orFail(await this.withClient(options, (client) => client.sendSingle('conversation:search', { query })));
    this.print(options, found, () =>
      found.results.length === 0 ? 'No matches' : found.results.map((result) => `${bold(result.session_id)} (${result.match_count} matches)\n${render(result.matches)}`).join('\n\n'),
    );
  }
}

interface ExportOptions extends SocketOptions {
  format?: 'markdown' | 'json';
}

@SubCommand({ name: 'export', arguments: '<session_id>', description: 'Write a conversation to var/state/exports' })
export class ConversationExportCommand extends KsiCommand<ExportOptions> {
  @Option({ flags: '--format <format>', description: 'markdown (default) or json', choices: ['markdown', 'json'] })
  parseFormat(value: string): string {
    return value;
  }

  protected async execute([sessionId]: string[], options: ExportOptions): Promise<void> {
    const exported = orFail(await this.withClient(options, (client) => client.sendSingle('conversation:export', { session_id: sessionId, format: options.format ?? 'markdown' })));
    process.stdout.write(`${exported.export_path} (${exported.message_count} messages)\n`);
  }
}

@Command({
  name: 'conversation',
  description: 'Read conversations from the response logs',
  subCommands: [ConversationListCommand, ConversationShowCommand, ConversationSearchCommand, ConversationExportCommand],
})
export class ConversationCommand extends CommandGroup {}

export const conversationCommands = [ConversationCommand, ConversationListCommand, ConversationShowCommand, ConversationSearchCommand, ConversationExportCommand];
