import { Command, Option } from 'nest-commander';
import type { EventDescription } from '../../../libs/client/src';
import { orFail } from '../cli-error';
import { DataCommand, type OutputOptions } from '../ksi-command';
import { bold, dim, table } from '../output';

interface DiscoverOptions extends OutputOptions {
  namespace?: string;
  event?: string;
}

@Command({ name: 'discover', description: 'List the events the daemon handles, grouped by namespace' })
export class DiscoverCommand extends DataCommand<DiscoverOptions> {
  @Option({ flags: '-n, --namespace <namespace>', description: 'only this namespace' })
  parseNamespace(value: string): string {
    return value;
  }

  @Option({ flags: '-e, --event <glob>', description: 'only events matching this glob, e.g. "state:*"' })
  parseEvent(value: string): string {
    return value;
  }

  protected async execute(_params: string[], options: DiscoverOptions): Promise<void> {
    const result = orFail(await this.withClient(options, (client) => client.sendSingle('system:discover', { namespace: options.namespace, event: options.event, detail: false })));
    this.print(options, result, () => render(result.events as Record<string, EventDescription>, result.namespaces, result.total));
  }
}

function render(described: Record<string, EventDescription>, namespaces: string[], total: number): string {
  const events = Object.entries(described);
  if (events.length === 0) return 'No events match.';
  const out: string[] = [`${bold(`${total} events`)} in ${namespaces.length} namespaces\n`];
  for (const namespace of namespaces) {
    const rows = events.filter(([name]) => name.split(':')[0] === namespace).map(([name, entry]) => [`  ${name}`, dim(entry.summary)]);
    out.push(`${bold(namespace)} (${rows.length})`, table(rows), '');
  }
  out.push(dim('Details of one event: ksi help <event>'));
  return out.join('\n');
}
