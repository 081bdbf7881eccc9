import { Inject, Injectable } from '@nestjs/common';
import { parseModel, parseSince, roundUsd, type CostDimension, type CostSummaryResult, type CostTotals } from '../../../libs/client/src';
import { CLOCK, type Clock } from '../../common/clock';
import { CostRepository } from './cost.repository';

type CostRow = CostSummaryResult['rows'][number];

/** cost:summary and an agent's totals, from the costs recorded on completion rows. */
@Injectable()
export class CostService {
  constructor(
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly costs: CostRepository,
  ) {}

  async summary(by: CostDimension, since: string | number | undefined): Promise<CostSummaryResult> {
    const from = since === undefined ? 0 : (parseSince(since, this.clock.now()) ?? 0);
    const grouped = await this.costs.byDimension(by, from);
    const rows = by === 'model' ? byModel(grouped) : grouped;
    return { by, since: since === undefined ? null : from / 1000, rows, totals: sum(rows) };
  }

  spent(since: number, by: { agent_id?: string; profile?: string }): Promise<number> {
    return this.costs.spent(since, by);
  }

  ofAgent(agentId: string): Promise<CostTotals> {
    return this.costs.ofAgentId(agentId);
  }
}

/** A bare model name is the Claude CLI's: `sonnet` and `claude-cli/sonnet` are one row. */
function byModel(rows: CostRow[]): CostRow[] {
  const merged = new Map<string | null, CostRow[]>();
  for (const row of rows) {
    const model = row.key === null ? undefined : parseModel(row.key);
    const key = model ? `${model.provider}/${model.name}` : row.key;
    merged.set(key, [...(merged.get(key) ?? []), row]);
  }
  return [...merged].map(([key, same]) => ({ key, ...sum(same) })).sort((a, b) => b.cost_usd - a.cost_usd || b.requests - a.requests);
}

function sum(rows: CostTotals[]): CostTotals {
  const total = (pick: (row: CostTotals) => number) => rows.reduce((sum, row) => sum + pick(row), 0);
  return {
    cost_usd: roundUsd(total((row) => row.cost_usd)),
    usage: {
      input_tokens: total((row) => row.usage.input_tokens),
      output_tokens: total((row) => row.usage.output_tokens),
      cache_read_input_tokens: total((row) => row.usage.cache_read_input_tokens),
      cache_creation_input_tokens: total((row) => row.usage.cache_creation_input_tokens),
    },
    requests: total((row) => row.requests),
    turns: total((row) => row.turns),
  };
}
