import { Command, Option } from 'nest-commander';
import type { EventDescription } from '../../../libs/client/src';
import { KsiCommand, type SocketOptions } from '../ksi-command';
import { bold, dim, table } from '../output';

interface DiscoverOptions extends SocketOptions {
  namespace?: string;
  event?: string;
}

@Command({ name: 'discover', description: 'List the events the daemon handles, grouped by namespace' })
export class DiscoverCommand extends KsiCommand<DiscoverOptions> {
  @Option({ flags: '-n, --namespace <namespace>', description: 'only this namespace' })
  parseNamespace(value: string): string {
    return value;
  }

  @Option({ flags: '-e, --event <glob>', description: 'only events matching this glob, e.g. "state:*"' })
  parseEvent(value: string): string {
    return value;
  }

  protected async execute(_params: string[], options: DiscoverOptions): Promise<void> {
    const result = await this.withClient(options, (client) =>
      client.sendSingle('system:discover', { namespace: options.namespace, event: options.event, detail: false }),
    );
    const events = Object.entries(result.events) as [string, EventDescription][];
    if (events.length === 0) {
      process.stdout.write('No events match.\n');
      return;
    }
    const out: string[] = [`${bold(`${result.total} events`)} in ${result.namespaces.length} namespaces\n`];
    for (const namespace of result.namespaces) {
      const rows = events.filter(([name]) => name.split(':')[0] === namespace).map(([name, entry]) => [`  ${name}`, dim(entry.summary)]);
      out.push(`${bold(namespace)} (${rows.length})`, table(rows), '');
    }
    out.push(dim('Details of one event: ksi help <event>'));
    process.stdout.write(`${out.join('\n')}\n`);
  }
}
