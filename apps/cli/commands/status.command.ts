import { Command } from 'nest-commander';
import type { ResultOf } from '../../../libs/client/src';
import { orFail } from '../cli-error';
import { DataCommand, type OutputOptions } from '../ksi-command';
import { bold, dim, table } from '../output';

interface Status {
  daemon: ResultOf<'system:health'>;
  queue: ResultOf<'completion:queue_status'>;
  retrying: number;
  approvals: ResultOf<'approval:list'>['approvals'];
  agents: ResultOf<'agent:list'>['agents'];
  costs: ResultOf<'cost:summary'>['rows'];
}

@Command({ name: 'status', description: 'Everything at a glance: the daemon, the queue, approvals waiting and every agent (-o wide for more columns)' })
export class StatusCommand extends DataCommand {
  protected async execute(_params: string[], options: OutputOptions): Promise<void> {
    const status = await this.withClient(options, async (client): Promise<Status> => {
      const [daemon, queue, retries, { approvals }, { agents }, { rows: costs }] = await Promise.all([
        client.sendSingle('system:health'),
        client.sendSingle('completion:queue_status').then(orFail),
        client.sendSingle('completion:retry_status').then(orFail),
        client.sendSingle('approval:list', { status: 'pending' }).then(orFail),
        client.sendSingle('agent:list', {}).then(orFail),
        client.sendSingle('cost:summary', { by: 'agent' }).then(orFail),
      ]);
      return { daemon, queue, retrying: retries.count, approvals, agents, costs };
    });
    this.print(options, status, (wide) => render(status, wide));
  }
}

/** The status, and when it is not healthy, what made it so and where to look. */
function daemonStatus({ status, database, claude_cli }: Status['daemon']): string {
  if (database.status !== 'ok') return `${status} (database: ${database.error ?? database.status})`;
  if (claude_cli.status !== 'ok') return `${status} (Claude CLI ${claude_cli.path} is ${claude_cli.status.replace('_', ' ')}: set CLAUDE_BIN)`;
  return status;
}

/** "1 (this daemon)" alone; else how many of each status. */
function nodesLine({ alive, suspect, dead, nodes }: Status['daemon']['cluster']): string {
  if (nodes.length <= 1) return '1 (this daemon)';
  return [`${alive} alive`, ...(suspect > 0 ? [`${suspect} suspect`] : []), ...(dead > 0 ? [`${dead} dead`] : [])].join(', ') + ' (ksi nodes)';
}

function render({ daemon, queue, retrying, approvals, agents, costs }: Status, wide: boolean): string {
  const parked = queue.usage_windows.reduce((sum, window) => sum + window.parked, 0);
  const summary = table([
    [bold('DAEMON'), `${daemonStatus(daemon)}, v${daemon.version}, pid ${daemon.pid}, up ${Math.round(daemon.uptime)}s, ${daemon.memory.rss_mb} MB, ${daemon.connections} connections`],
    [bold('NODES'), nodesLine(daemon.cluster)],
    [bold('QUEUE'), `${queue.processing} running (this node runs ${queue.limit} at most), ${queue.queued} queued, ${retrying} retrying, ${parked} parked`],
    [bold('APPROVALS'), approvals.length === 0 ? 'none waiting' : `${approvals.length} waiting (ksi approvals)`],
  ]);
  if (agents.length === 0) return `${summary}\n\n${dim('No agents')}`;
  const cost = new Map(costs.map((row) => [row.key, row]));
  const rows = agents.map((agent) => [
    agent.agent_id,
    agent.status,
    agent.profile,
    String(agent.pending_messages),
    String(agent.failed_messages),
    `$${(cost.get(agent.agent_id)?.cost_usd ?? 0).toFixed(4)}`,
    ...(wide ? [String(cost.get(agent.agent_id)?.turns ?? 0), agent.model, agent.session_id ?? dim('-'), agent.failed_turns[0]?.error ?? dim('-')] : []),
  ]);
  const head = ['AGENT', 'STATUS', 'PROFILE', 'PENDING', 'FAILED', 'COST', ...(wide ? ['TURNS', 'MODEL', 'SESSION', 'LAST ERROR'] : [])];
  return `${summary}\n\n${table([head, ...rows])}`;
}
