import { Command, Option } from 'nest-commander';
import { usageError } from '../cli-error';
import { KsiCommand, type SocketOptions } from '../ksi-command';
import { completionScript, SHELLS, type Shell } from '../shell-completion';

interface CompletionOptions extends SocketOptions {
  events?: boolean;
}

@Command({ name: 'completion', arguments: '[shell]', description: 'Print a completion script: bash, zsh or fish (eval "$(ksi completion bash)")' })
export class CompletionCommand extends KsiCommand<CompletionOptions> {
  @Option({ flags: '--events', description: "the daemon's event names, one per line (what the scripts complete send and help with)" })
  parseEvents(): boolean {
    return true;
  }

  protected async execute([shell]: string[], options: CompletionOptions): Promise<void> {
    if (options.events) {
      const { events } = await this.withClient(options, (client) => client.sendSingle('system:discover', { detail: false }), 2_000);
      process.stdout.write(`${Object.keys(events).join('\n')}\n`);
      return;
    }
    if (!SHELLS.includes(shell as Shell)) throw usageError(`ksi completion takes one of ${SHELLS.join(', ')}${shell === undefined ? '' : `; got ${JSON.stringify(shell)}`}`);
    let program = this.command;
    while (program.parent) program = program.parent;
    process.stdout.write(completionScript(shell as Shell, program));
  }
}
