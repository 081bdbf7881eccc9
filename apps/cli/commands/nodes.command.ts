import { Command, Option } from 'nest-commander';
import * as os from 'node:os';
import { isErrorResult, type ErrorResult, type HealthResult, type ResultOf } from '../../../libs/client/src';
import { orFail } from '../cli-error';
import { printForPeople } from '../data-output';
import { DataCommand, type OutputOptions } from '../ksi-command';
import { bold, dim, table } from '../output';

interface NodesOptions extends OutputOptions {
  alive?: boolean;
}

@Command({ name: 'nodes', description: 'The daemons sharing this database, with their status and running completions (-o wide for more columns)' })
export class NodesCommand extends DataCommand {
  protected async execute(_params: string[], options: NodesOptions): Promise<void> {
    const { answer, health } = await this.withClient(options, async (client) => {
      const nodes = await client.sendSingle('cluster:nodes', { include_dead: !options.alive });
      // The nodes are in the database: when it cannot be read, this daemon can still say how it is.
      return { answer: nodes, health: isErrorResult(nodes) ? await client.sendSingle('system:health').catch(() => undefined) : undefined };
    });
    if (isErrorResult(answer) && health && !isErrorResult(health)) printForPeople(options.output, (wide) => thisDaemonOnly(health, answer, wide));
    orFail(answer);
    this.print(options, answer, (wide) => render(answer, wide));
  }

  @Option({ flags: '--alive', description: 'Leave out dead nodes' })
  parseAlive(): boolean {
    return true;
  }
}

const head = (wide: boolean) => ['NODE', 'STATUS', 'RUNNING', 'HEARTBEAT', ...(wide ? ['HOST', 'PID', 'VERSION', 'SOCKET'] : [])];

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
  return table([head(wide), ...rows]);
}

/** The one row a daemon can give without its database: itself, its health in place of a heartbeat status. */
function thisDaemonOnly(health: HealthResult, failure: ErrorResult, wide: boolean): string {
  const unknown = dim('?');
  // It answered on a Unix socket: it runs on this host.
  const row = [`${health.cluster.node_id} ${bold('*')}`, health.status, unknown, unknown, ...(wide ? [os.hostname(), String(health.pid), health.version, health.socket] : [])];
  return `${table([head(wide), row])}\n${dim(`The other nodes are unknown until the database can be read again (${failure.code}).`)}`;
}
