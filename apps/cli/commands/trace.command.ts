import { Command } from 'nest-commander';
import type { TreeNode } from '../../../libs/client/src';
import { orFail } from '../cli-error';
import { KsiCommand, type SocketOptions } from '../ksi-command';
import { colourByNamespace, dim } from '../output';

@Command({ name: 'trace', arguments: '<correlation_id>', description: 'Print the causal tree of a request: every event it caused' })
export class TraceCommand extends KsiCommand {
  protected async execute([correlationId]: string[], options: SocketOptions): Promise<void> {
    const { tree } = orFail(await this.withClient(options, (client) => client.sendSingle('correlation:tree', { correlation_id: correlationId })));
    if (tree.length === 0) {
      process.stdout.write(`No events recorded for ${correlationId}\n`);
      return;
    }
    const start = tree[0].timestamp;
    const lines: string[] = [];
    const walk = (node: TreeNode, prefix: string, last: boolean, root: boolean) => {
      const offset = `+${Math.round((node.timestamp - start) * 1000)}ms`;
      const detail = [node.outcome && node.outcome !== 'ok' ? node.outcome : '', node.duration_ms !== null ? `${node.duration_ms}ms` : ''].filter(Boolean).join(' ');
      lines.push(`${prefix}${root ? '' : last ? '└─ ' : '├─ '}${colourByNamespace(node.event_name)} ${dim(offset)}${detail ? ` ${dim(detail)}` : ''}`);
      node.children.forEach((child, i) => walk(child, root ? '' : `${prefix}${last ? '   ' : '│  '}`, i === node.children.length - 1, false));
    };
    tree.forEach((node) => walk(node, '', true, true));
    process.stdout.write(`${lines.join('\n')}\n`);
  }
}
