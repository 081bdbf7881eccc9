import { Command, Option } from 'nest-commander';
import { EXIT, usageError } from '../cli-error';
import { dataFromFlags, dataFromJson } from '../data-flags';
import { KsiCommand, type SocketOptions } from '../ksi-command';
import { pretty } from '../output';
import { isErrorResult } from '../../../libs/client/src';

interface SendOptions extends SocketOptions {
  json?: string;
  output?: 'json' | 'pretty';
}

@Command({
  name: 'send',
  arguments: '<event>',
  description: 'Send any event; --key value pairs (or --json) become its data',
  allowUnknownOptions: true,
  allowExcessArgs: true,
})
export class SendCommand extends KsiCommand<SendOptions> {
  @Option({ flags: '--json <object>', description: 'the whole data as a JSON object' })
  parseJson(value: string): string {
    return value;
  }

  @Option({ flags: '-o, --output <format>', description: 'json or pretty (default: pretty)', choices: ['json', 'pretty'] })
  parseOutput(value: string): string {
    return value;
  }

  protected async execute([event, ...rest]: string[], options: SendOptions): Promise<void> {
    if (!event.includes(':')) throw usageError(`"${event}" is not an event name; events look like namespace:name (see \`ksi discover\`)`);
    const data = { ...(options.json ? dataFromJson(options.json) : {}), ...dataFromFlags(rest) };
    const result = await this.withClient(options, (client) => client.sendEvent(event, data));
    process.stdout.write(`${options.output === 'json' ? JSON.stringify(result, null, 2) : pretty(result)}\n`);
    const results = Array.isArray(result) ? result : [result];
    if (results.some(isErrorResult)) process.exitCode = EXIT.daemonError;
  }
}
