import { Command } from 'nest-commander';
import type { TreeNode } from '../../../libs/client/src';
import { CliError, EXIT, orFail } from '../cli-error';
import { DataCommand, type OutputOptions } from '../ksi-command';
import { colourByNamespace, dim } from '../output';

@Command({ name: 'trace', arguments: '<correlation_id>', description: 'Print the causal tree of a request: every event it caused' })
export class TraceCommand extends DataCommand {
  protected async execute([correlationId]: string[], options: OutputOptions): Promise<void> {
    const traced = orFail(await this.withClient(options, (client) => client.sendSingle('correlation:tree', { correlation_id: correlationId })));
    const { tree } = traced;
    if (tree.length === 0) throw new CliError(EXIT.daemonError, `No events recorded for ${correlationId} (ksi send prints the correlation id of its request)`);
    // An event is recorded when it ends: it started its duration earlier, and what it caused within it.
    const startOf = (node: TreeNode) => node.timestamp - (node.duration_ms ?? 0) / 1000;
    const start = Math.min(...tree.map(startOf));
    const lines: string[] = [];
    const walk = (node: TreeNode, prefix: string, last: boolean, root: boolean) => {
      const offset = `+${Math.max(0, Math.round((startOf(node) - start) * 1000))}ms`;
      const detail = [node.outcome && node.outcome !== 'ok' ? node.outcome : '', node.duration_ms !== null ? `${node.duration_ms}ms` : ''].filter(Boolean).join(' ');
      lines.push(`${prefix}${root ? '' : last ? '└─ ' : '├─ '}${colourByNamespace(node.event_name)} ${dim(offset)}${detail ? ` ${dim(detail)}` : ''}`);
      node.children.forEach((child, i) => walk(child, root ? '' : `${prefix}${last ? '   ' : '│  '}`, i === node.children.length - 1, false));
    };
    tree.forEach((node) => walk(node, '', true, true));
    this.print(options, traced, () => lines.join('\n'));
  }
}
