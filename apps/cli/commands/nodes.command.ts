import { Command, Option } from 'nest-commander';
import type { ResultOf } from '../../../libs/client/src';
import { orFail } from '../cli-error';
import { DataCommand, type OutputOptions } from '../ksi-command';
import { bold, dim, table } from '../output';

interface NodesOptions extends OutputOptions {
  alive?: boolean;
}

@Command({ name: 'nodes', description: 'The daemons sharing this database, with their status and running completions (-o wide for more columns)' })
export class NodesCommand extends DataCommand {
  protected async execute(_params: string[], options: NodesOptions): Promise<void> {
    const answer = orFail(await this.withClient(options, (client) => client.sendSingle('cluster:nodes', { include_dead: !options.alive })));
    this.print(options, answer, (wide) => render(answer, wide));
  }

  @Option({ flags: '--alive', description: 'Leave out dead nodes' })
  parseAlive(): boolean {
    return true;
  }
}

function render({ nodes }: ResultOf<'cluster:nodes'>, wide: boolean): string {
  if (nodes.length === 0) return dim('No nodes');
  const now = Date.now() / 1000;
  const rows = nodes.map((node) => [
    node.this_node ? `${node.node_id} ${bold('*')}` : node.node_id,
    node.status,
    String(node.running),
    `${Math.max(0, Math.round(now - node.heartbeat_at))}s ago`,
    ...(wide ? [node.host, String(node.pid), node.version, node.socket] : []),
  ]);
  return table([['NODE', 'STATUS', 'RUNNING', 'HEARTBEAT', ...(wide ? ['HOST', 'PID', 'VERSION', 'SOCKET'] : [])], ...rows]);
}
