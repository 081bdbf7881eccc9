import { Command } from 'nest-commander';
import { isErrorResult, type ErrorResult, type ResultOf } from '../../../libs/client/src';
import { EXIT, orFail } from '../cli-error';
import { DataCommand, type OutputOptions } from '../ksi-command';
import { bold, dim, table } from '../output';

/** A part of the status, or the daemon's error in its place (its database out of reach, say). */
type Part<T> = T | ErrorResult;

interface Status {
  daemon: ResultOf<'system:health'>;
  queue: Part<ResultOf<'completion:queue_status'>>;
  retrying: Part<number>;
  approvals: Part<ResultOf<'approval:list'>['approvals']>;
  agents: Part<ResultOf<'agent:list'>['agents']>;
  costs: Part<ResultOf<'cost:summary'>['rows']>;
}

/** The part `pick` takes from an answer, or the answer when it is an error. */
const part = <T, U>(answer: T, pick: (value: T) => U): Part<U> => (isErrorResult(answer) ? answer : pick(answer));

@Command({ name: 'status', description: 'Everything at a glance: the daemon, the queue, approvals waiting and every agent (-o wide for more columns)' })
export class StatusCommand extends DataCommand {
  protected async execute(_params: string[], options: OutputOptions): Promise<void> {
    const status = await this.withClient(options, async (client): Promise<Status> => {
      const [daemon, queue, retries, approvals, agents, costs] = await Promise.all([
        client.sendSingle('system:health').then(orFail),
        client.sendSingle('completion:queue_status'),
        client.sendSingle('completion:retry_status'),
        client.sendSingle('approval:list', { status: 'pending' }),
        client.sendSingle('agent:list', {}),
        client.sendSingle('cost:summary', { by: 'agent' }),
      ]);
      return {
        daemon,
        queue,
        retrying: part(retries, (answer) => answer.count),
        approvals: part(approvals, (answer) => answer.approvals),
        agents: part(agents, (answer) => answer.agents),
        costs: part(costs, (answer) => answer.rows),
      };
    });
    this.print(options, status, (wide) => render(status, wide));
    // What the daemon could not tell (its database away) is shown in its place; the command then fails.
    const failures = new Set(Object.values(status).filter(isErrorResult).map((failure) => `Error (${failure.code}): ${failure.error}\n`));
    if (failures.size === 0) return;
    process.stderr.write([...failures].join(''));
    process.exitCode = EXIT.daemonError;
  }
}

const unknown = (failure: ErrorResult) => dim(`unknown (${failure.code})`);

/** The status, and when it is not healthy, what made it so and where to look. */
function daemonStatus({ status, database, claude_cli }: Status['daemon']): string {
  if (database.status !== 'ok') return `${status} (database: ${database.error ?? database.status})`;
  if (claude_cli.status !== 'ok') return `${status} (Claude CLI ${claude_cli.path} is ${claude_cli.status.replace('_', ' ')}: set CLAUDE_BIN)`;
  return status;
}

/** "1 (this daemon)" alone; else how many of each status. The daemon lists none when its database cannot be read. */
function nodesLine({ alive, suspect, dead, nodes }: Status['daemon']['cluster']): string {
  if (nodes.length === 0) return dim('unknown (the database cannot be read)');
  if (nodes.length === 1) return '1 (this daemon)';
  return [`${alive} alive`, ...(suspect > 0 ? [`${suspect} suspect`] : []), ...(dead > 0 ? [`${dead} dead`] : [])].join(', ') + ' (ksi nodes)';
}

/**
 * Running, queued, retrying and parked count every node's requests; the limit is this node's. In a
 * cluster the line says which numbers are whose.
 */
function queueLine({ daemon: { cluster }, queue, retrying }: Status): string {
  if (isErrorResult(queue)) return unknown(queue);
  if (isErrorResult(retrying)) return unknown(retrying);
  const parked = queue.usage_windows.reduce((sum, window) => sum + window.parked, 0);
  const counts = `${queue.queued} queued, ${retrying} retrying, ${parked} parked`;
  if (cluster.nodes.length <= 1) return `${queue.processing} running of ${queue.limit} at most, ${counts}`;
  const runningHere = cluster.nodes.find((node) => node.node_id === cluster.node_id)?.running ?? 0;
  return `in the cluster ${queue.processing} running, ${counts}; on this node ${runningHere} running of ${queue.limit} at most`;
}

function render(status: Status, wide: boolean): string {
  const { daemon, approvals, agents, costs } = status;
  const summary = table([
    [bold('DAEMON'), `${daemonStatus(daemon)}, v${daemon.version}, pid ${daemon.pid}, up ${Math.round(daemon.uptime)}s, ${daemon.memory.rss_mb} MB, ${daemon.connections} connections`],
    [bold('NODES'), nodesLine(daemon.cluster)],
    [bold('QUEUE'), queueLine(status)],
    [bold('APPROVALS'), isErrorResult(approvals) ? unknown(approvals) : approvals.length === 0 ? 'none waiting' : `${approvals.length} waiting (ksi approvals)`],
  ]);
  if (isErrorResult(agents)) return `${summary}\n\n${bold('AGENTS')} ${unknown(agents)}`;
  if (agents.length === 0) return `${summary}\n\n${dim('No agents')}`;
  const cost = new Map(isErrorResult(costs) ? [] : costs.map((row) => [row.key, row]));
  const money = (agentId: string) => (isErrorResult(costs) ? dim('?') : `$${(cost.get(agentId)?.cost_usd ?? 0).toFixed(4)}`);
  const rows = agents.map((agent) => [
    agent.agent_id,
    agent.status,
    agent.profile,
    String(agent.pending_messages),
    String(agent.failed_messages),
    money(agent.agent_id),
    ...(wide ? [isErrorResult(costs) ? dim('?') : String(cost.get(agent.agent_id)?.turns ?? 0), agent.model, agent.session_id ?? dim('-'), agent.failed_turns[0]?.error ?? dim('-')] : []),
  ]);
  const head = ['AGENT', 'STATUS', 'PROFILE', 'PENDING', 'FAILED', 'COST', ...(wide ? ['TURNS', 'MODEL', 'SESSION', 'LAST ERROR'] : [])];
  return `${summary}\n\n${table([head, ...rows])}`;
}
