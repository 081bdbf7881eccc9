import { Command, Option } from 'nest-commander';
import { KsiClient } from '../../../libs/client/src';
import { KsiCommand, type SocketOptions } from '../ksi-command';
import { colourByNamespace, dim } from '../output';

interface MonitorOptions extends SocketOptions {
  json?: boolean;
}

@Command({ name: 'monitor', arguments: '[patterns...]', description: 'Stream the daemon\'s events live (globs such as "state:*"; default all) until Ctrl-C' })
export class MonitorCommand extends KsiCommand<MonitorOptions> {
  @Option({ flags: '--json', description: 'one raw JSON line per event' })
  parseJson(): boolean {
    return true;
  }

  protected async execute(patterns: string[], options: MonitorOptions): Promise<void> {
    const client = new KsiClient({ socketPath: this.socketPath(options) });
    await client.connect();
    client.subscribe('monitor:event', (line) => {
      if (options.json) {
        process.stdout.write(`${JSON.stringify(line.data)}\n`);
        return;
      }
      const entry = line.data;
      const time = new Date(entry.timestamp * 1000).toISOString().slice(11, 23);
      process.stdout.write(`${dim(time)} ${colourByNamespace(entry.event_name)} ${JSON.stringify(entry.data ?? {})}\n`);
    });
    await client.sendSingle('monitor:subscribe', { patterns: patterns.length > 0 ? patterns : ['*'] });
    if (!options.json) process.stderr.write(dim(`Monitoring ${patterns.join(' ') || 'all events'} — Ctrl-C to stop\n`));
    try {
      await this.untilStopped(client);
    } finally {
      await client.close();
    }
  }
}
