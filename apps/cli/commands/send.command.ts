import { Command, Option } from 'nest-commander';
import { DataCommand, type OutputOptions } from '../ksi-command';
import { sendEvent } from '../send-event';

interface SendOptions extends OutputOptions {
  json?: string;
}

/** `ksi send` as --help describes it; plain invocations take the fast path of main.ts (fast-send.ts), which runs the same sendEvent. */
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

  protected async execute(params: string[], options: SendOptions): Promise<void> {
    await sendEvent(this.socketPath(options), params, options, (data, human) => this.print(options, data, human));
  }
}
