import { Command, Option, SubCommand } from 'nest-commander';
import { CliError, EXIT, orFail, usageError } from '../cli-error';
import { jsonOrString } from '../data-flags';
import { CommandGroup, DataCommand, type OutputOptions } from '../ksi-command';

interface StateOptions extends OutputOptions {
  key?: string;
  value?: string;
  namespace?: string;
}

/** The options every state subcommand takes. */
abstract class StateKeyCommand extends DataCommand<StateOptions> {
  @Option({ flags: '-k, --key <key>', description: 'the key', required: true })
  parseKey(value: string): string {
    return value;
  }

  @Option({ flags: '-n, --namespace <namespace>', description: 'the namespace (default: global, as state:set)' })
  parseNamespace(value: string): string {
    return value;
  }
}

@SubCommand({ name: 'state', description: 'Print the value of a key (objects as JSON)' })
export class GetStateCommand extends StateKeyCommand {
  protected async execute(_params: string[], options: StateOptions): Promise<void> {
    const namespace = options.namespace ?? 'global';
    const reply = orFail(await this.withClient(options, (client) => client.sendSingle('state:get', { key: options.key as string, namespace })));
    if (!reply.found) throw new CliError(EXIT.daemonError, `Key not found: ${options.key} (namespace: ${namespace})`);
    this.print(options, reply, () => (typeof reply.value === 'string' ? reply.value : JSON.stringify(reply.value, null, 2)));
  }
}

@SubCommand({ name: 'state', description: 'Write a key; the value is JSON when it parses as JSON, else a string' })
export class SetStateCommand extends StateKeyCommand {
  @Option({ flags: '-v, --value <value>', description: 'the value', required: true })
  parseValue(value: string): string {
    return value;
  }

  protected async execute(_params: string[], options: StateOptions): Promise<void> {
    if (options.value === undefined) throw usageError('--value is required');
    const namespace = options.namespace ?? 'global';
    const written = orFail(await this.withClient(options, (client) => client.sendSingle('state:set', { key: options.key as string, value: jsonOrString(options.value as string), namespace })));
    this.print(options, written, () => `set ${namespace}/${options.key}`);
  }
}

@Command({ name: 'get', description: 'Read something from the daemon (ksi get state --key K)', subCommands: [GetStateCommand] })
export class GetCommand extends CommandGroup {}

@Command({ name: 'set', description: 'Write something to the daemon (ksi set state --key K --value V)', subCommands: [SetStateCommand] })
export class SetCommand extends CommandGroup {}
