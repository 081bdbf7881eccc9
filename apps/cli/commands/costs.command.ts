import { Command, Option } from 'nest-commander';
import { COST_DIMENSIONS, parseSince, SINCE_FORMAT, type CostDimension, type CostSummaryResult, type CostTotals } from '../../../libs/client/src';
import { orFail, usageError } from '../cli-error';
import { DataCommand, type OutputOptions } from '../ksi-command';
import { bold, dim, table } from '../output';

interface CostsOptions extends OutputOptions {
  by?: CostDimension;
  since?: string;
}

const EPOCH_SECONDS = /^\d+(?:\.\d+)?$/;

@Command({ name: 'costs', description: 'What completions cost, by agent, profile, session, model, day or hour' })
export class CostsCommand extends DataCommand<CostsOptions> {
  @Option({ flags: '--by <dimension>', description: 'agent (default), profile, session, model, day or hour (UTC)' })
  parseBy(value: string): string {
    return value;
  }

  @Option({ flags: '--since <time>', description: `only what was spent since: ${SINCE_FORMAT}` })
  parseSince(value: string): string {
    return value;
  }

  protected async execute(_params: string[], options: CostsOptions): Promise<void> {
    const by = options.by ?? 'agent';
    // nest-commander skips commander's `choices` check when the option has a parser.
    if (!COST_DIMENSIONS.includes(by)) throw usageError(`--by ${by} is not one of ${COST_DIMENSIONS.join(', ')}`);
    const since = options.since === undefined ? undefined : EPOCH_SECONDS.test(options.since) ? Number(options.since) : options.since;
    if (since !== undefined && parseSince(since, Date.now()) === undefined) throw usageError(`--since ${options.since} is not a time: use ${SINCE_FORMAT}`);
    const summary = orFail(await this.withClient(options, (client) => client.sendSingle('cost:summary', { by, ...(since !== undefined && { since }) })));
    this.print(options, summary, () => render(summary));
  }
}

function render(summary: CostSummaryResult): string {
  const period = summary.since === null ? '' : ` since ${new Date(summary.since * 1000).toISOString()}`;
  if (summary.rows.length === 0) return `No costs recorded${period}`;
  const columns = (totals: CostTotals) => [
    `$${totals.cost_usd.toFixed(4)}`,
    String(totals.requests),
    String(totals.turns),
    String(totals.usage.input_tokens),
    String(totals.usage.output_tokens),
    String(totals.usage.cache_read_input_tokens),
    String(totals.usage.cache_creation_input_tokens),
  ];
  const rows = [
    [summary.by.toUpperCase(), 'COST (USD)', 'REQUESTS', 'TURNS', 'INPUT', 'OUTPUT', 'CACHE READ', 'CACHE WRITE'],
    ...summary.rows.map((row) => [row.key ?? dim('-'), ...columns(row)]),
    [bold('TOTAL'), ...columns(summary.totals)],
  ];
  return `${table(rows)}${period ? `\n${dim(period.trim())}` : ''}`;
}
