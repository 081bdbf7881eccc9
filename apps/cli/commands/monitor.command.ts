import { Command, Option } from 'nest-commander';
import { isErrorResult, KsiClient } from '../../../libs/client/src';
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
    // Lines name their node once events come from more than one: from the start when the daemon has
    // live peers, else from the first event of another node (one that joined later).
    let { thisNode, peers: namingNodes } = options.json ? { thisNode: undefined, peers: false } : await clusterOf(client);
    client.subscribe('monitor:event', (line) => {
      if (options.json) {
        process.stdout.write(`${JSON.stringify(line.data)}\n`);
        return;
      }
      const entry = line.data;
      thisNode ??= entry.node_id;
      if (entry.node_id !== undefined && entry.node_id !== thisNode) namingNodes = true;
      const time = new Date(entry.timestamp * 1000).toISOString().slice(11, 23);
      const node = namingNodes ? ` [${entry.node_id ?? '?'}]` : '';
      process.stdout.write(`${dim(time)}${node} ${colourByNamespace(entry.event_name)} ${JSON.stringify(entry.data ?? {})}\n`);
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

/** This daemon's node, and whether other nodes that are not dead share its database; neither when it does not say. */
async function clusterOf(client: KsiClient): Promise<{ thisNode?: string; peers: boolean }> {
  const health = await client.sendSingle('system:health').catch(() => undefined);
  if (!health || isErrorResult(health) || !health.cluster) return { peers: false };
  const { node_id: thisNode, nodes } = health.cluster;
  return { thisNode, peers: nodes.some((node) => node.node_id !== thisNode && node.status !== 'dead') };
}
