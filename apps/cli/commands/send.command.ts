import { Command, Option } from 'nest-commander';
import { isErrorResult, KsiEventError } from '../../../libs/client/src';
import { EXIT, usageError } from '../cli-error';
import { dataFromFlags, dataFromJson } from '../data-flags';
import { DataCommand, type OutputOptions } from '../ksi-command';
import { dim, pretty } from '../output';

interface SendOptions extends OutputOptions {
  json?: string;
}

@Command({
  name: 'send',
  arguments: '<event>',
  description: 'Send any event; --key value pairs (or --json) become its data',
  allowUnknownOptions: true,
  allowExcessArgs: true,
})
export class SendCommand extends DataCommand<SendOptions> {
  @Option({ flags: '--json <object>', description: 'the whole data as a JSON object' })
  parseJson(value: string): string {
    return value;
  }

  protected async execute([event, ...rest]: string[], options: SendOptions): Promise<void> {
    if (!event.includes(':')) throw usageError(`"${event}" is not an event name; events look like namespace:name (see \`ksi discover\`)`);
    const data = { ...(options.json ? dataFromJson(options.json) : {}), ...dataFromFlags(rest) };
    const reply = await this.withClient(options, (client) => client.request(event, data));
    if ('error' in reply) throw new KsiEventError(event, reply.code, reply.error, reply);
    this.print(options, reply.data, () => pretty(reply.data));
    // For people: the id `ksi trace` takes. Programs (-o json|yaml) get the data alone on stdout.
    if (options.output === undefined || options.output === 'table' || options.output === 'wide') process.stderr.write(`${dim(`correlation id ${reply.correlation_id} (ksi trace ${reply.correlation_id})`)}\n`);
    const results = Array.isArray(reply.data) ? reply.data : [reply.data];
    if (results.some(isErrorResult)) process.exitCode = EXIT.daemonError;
  }
}
