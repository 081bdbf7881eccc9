import { Inject, Injectable } from '@nestjs/common';
import type { Database, Statement } from 'better-sqlite3';
import type { CompletionRecord, CostDimension, CostTotals, CostUsage } from '../../../libs/client/src';
import { SQLITE } from '../../database/sqlite.provider';
import { WriteQueue } from '../../database/write-queue';
import type { TurnCost } from './providers/attempt-outcome';

/** The cost columns of a completion_requests row. */
export interface CostColumns {
  cost_usd: number;
  input_tokens: number;
  output_tokens: number;
  cache_read_input_tokens: number;
  cache_creation_input_tokens: number;
  num_turns: number;
  duration_api_ms: number;
}

type TokenColumns = Pick<CostColumns, 'input_tokens' | 'output_tokens' | 'cache_read_input_tokens' | 'cache_creation_input_tokens'>;

interface TotalsRow extends TokenColumns {
  key: string | null;
  cost_usd: number;
  requests: number;
  turns: number;
}

/** When a request's money was spent, for `since` and `by: day`: when it finished, else when its last attempt started. */
const SPENT_AT = 'COALESCE(r.completed_at, r.started_at, r.queued_at)';

/**
 * The key each dimension adds up under. A session chain counts under its root: the root of the
 * session the request returned, else of the session it resumed (an unknown one is its own root).
 */
const KEYS: Record<CostDimension, string> = {
  agent: 'r.agent_id',
  profile: 'r.profile',
  session: 'COALESCE(returned.root_session_id, resumed.root_session_id, r.session_id)',
  model: 'r.model',
  day: `date(${SPENT_AT} / 1000, 'unixepoch')`,
};

const SUMS = `COALESCE(SUM(r.cost_usd), 0) AS cost_usd, COALESCE(SUM(r.input_tokens), 0) AS input_tokens, COALESCE(SUM(r.output_tokens), 0) AS output_tokens,
  COALESCE(SUM(r.cache_read_input_tokens), 0) AS cache_read_input_tokens, COALESCE(SUM(r.cache_creation_input_tokens), 0) AS cache_creation_input_tokens,
  COUNT(*) AS requests, COALESCE(SUM(r.num_turns), 0) AS turns`;

/** What completions cost: recorded per attempt on their rows, added up by agent, profile, session, model or day. */
@Injectable()
export class CostRepository {
  private readonly add: Statement;
  private readonly ofAgent: Statement;
  private readonly byKey: Record<CostDimension, Statement>;

  constructor(
    @Inject(SQLITE) db: Database,
    private readonly writes: WriteQueue,
  ) {
    this.add = db.prepare(
      `UPDATE completion_requests SET cost_usd = cost_usd + @cost_usd, input_tokens = input_tokens + @input_tokens, output_tokens = output_tokens + @output_tokens,
         cache_read_input_tokens = cache_read_input_tokens + @cache_read_input_tokens, cache_creation_input_tokens = cache_creation_input_tokens + @cache_creation_input_tokens,
         num_turns = num_turns + @num_turns, duration_api_ms = duration_api_ms + @duration_api_ms
       WHERE request_id = @id`,
    );
    this.ofAgent = db.prepare(`SELECT NULL AS key, ${SUMS} FROM completion_requests r WHERE r.agent_id = ? AND r.attempts > 0`);
    const grouped = (by: CostDimension) =>
      db.prepare(
        `SELECT ${KEYS[by]} AS key, ${SUMS} FROM completion_requests r
         ${by === 'session' ? 'LEFT JOIN session_links returned ON returned.session_id = r.result_session_id LEFT JOIN session_links resumed ON resumed.session_id = r.session_id' : ''}
         WHERE r.attempts > 0 AND ${SPENT_AT} >= @since
         GROUP BY key ORDER BY ${by === 'day' ? 'key' : 'cost_usd DESC, requests DESC, key'}`,
      );
    this.byKey = { agent: grouped('agent'), profile: grouped('profile'), session: grouped('session'), model: grouped('model'), day: grouped('day') };
  }

  /** Adds one attempt's cost to its request; counters the provider did not report add 0. */
  record(requestId: string, cost: TurnCost): Promise<void> {
    return this.writes.run(
      () =>
        void this.add.run({
          id: requestId,
          cost_usd: cost.cost_usd ?? 0,
          ...cost.usage,
          num_turns: cost.num_turns ?? 0,
          duration_api_ms: cost.duration_api_ms ?? 0,
        }),
    );
  }

  ofAgentId(agentId: string): CostTotals {
    return totals(this.ofAgent.get(agentId) as TotalsRow);
  }

  /** Rows per key of requests that spent since `since` (epoch ms). */
  byDimension(by: CostDimension, since: number): (CostTotals & { key: string | null })[] {
    return (this.byKey[by].all({ since }) as TotalsRow[]).map((row) => ({ key: row.key, ...totals(row) }));
  }
}

/** Dollars to a nanodollar: sums of binary fractions (0.0001 × 3) otherwise print as 0.00030000000000000003. */
export const roundUsd = (usd: number): number => Math.round(usd * 1e9) / 1e9;

function usageOf(row: TokenColumns): CostUsage {
  return {
    input_tokens: row.input_tokens,
    output_tokens: row.output_tokens,
    cache_read_input_tokens: row.cache_read_input_tokens,
    cache_creation_input_tokens: row.cache_creation_input_tokens,
  };
}

function totals(row: TotalsRow): CostTotals {
  return { cost_usd: roundUsd(row.cost_usd), usage: usageOf(row), requests: row.requests, turns: row.turns };
}

/** One request's costs as completion:status shows them. */
export function recordedCost(row: CostColumns): Pick<CompletionRecord, 'cost_usd' | 'usage' | 'num_turns' | 'duration_api_ms'> {
  return { cost_usd: roundUsd(row.cost_usd), usage: usageOf(row), num_turns: row.num_turns, duration_api_ms: row.duration_api_ms };
}
