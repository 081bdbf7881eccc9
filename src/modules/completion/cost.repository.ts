import { Injectable } from '@nestjs/common';
import { roundUsd, type CompletionRecord, type CostDimension, type CostTotals, type CostUsage } from '../../../libs/client/src';
import { sql, type SqlStatement } from '../../database/sql-statement';
import { Storage } from '../../database/storage';
import type { CompletionRequest } from './completion-request.entity';
import type { TurnCost } from './providers/attempt-outcome';

/** What a request cost, summed over its attempts. */
export type CostColumns = Pick<CompletionRequest, 'costUsd' | 'inputTokens' | 'outputTokens' | 'cacheReadInputTokens' | 'cacheCreationInputTokens' | 'numTurns' | 'durationApiMs'>;

type TokenColumns = Pick<CostColumns, 'inputTokens' | 'outputTokens' | 'cacheReadInputTokens' | 'cacheCreationInputTokens'>;

/** The cost columns of `completion_requests r`, named as the entity names them. */
export const COST_COLUMNS = `r.cost_usd AS "costUsd", r.input_tokens AS "inputTokens", r.output_tokens AS "outputTokens",
  r.cache_read_input_tokens AS "cacheReadInputTokens", r.cache_creation_input_tokens AS "cacheCreationInputTokens",
  r.num_turns AS "numTurns", r.duration_api_ms AS "durationApiMs"`;

interface TotalsRow extends TokenColumns {
  costUsd: number;
  requests: number;
  turns: number;
}

type KeyedTotalsRow = TotalsRow & { key: string | null };

/** When a request's money was spent, for `since` and `by: day|hour`: when it finished, else when its last attempt started. */
const SPENT_AT = 'COALESCE(r.completed_at, r.started_at, r.queued_at)';

/**
 * USD spent since @since (by SPENT_AT), of the requests `filter` keeps, in two parts an index on
 * completed_at serves: those finished since, and the few not finished (running, or queued again after
 * an attempt). A budget check asks on every attempt, so it must not read the whole history. A request
 * finished without an attempt spent nothing.
 */
function spentSince(filter?: string): string {
  const kept = filter === undefined ? '' : `${filter} AND `;
  return `SELECT COALESCE(SUM(cost_usd), 0) FROM (
    SELECT r.cost_usd FROM completion_requests r WHERE ${kept}r.completed_at >= @since
    UNION ALL
    SELECT r.cost_usd FROM completion_requests r WHERE ${kept}r.completed_at IS NULL AND r.attempts > 0 AND COALESCE(r.started_at, r.queued_at) >= @since
  ) spent`;
}

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
  hour: `strftime('%Y-%m-%dT%H:00Z', ${SPENT_AT} / 1000, 'unixepoch')`,
};

/** PostgreSQL's spelling where it differs: the same UTC day. */
const POSTGRES_KEYS: Partial<Record<CostDimension, string>> = {
  day: `to_char(to_timestamp(${SPENT_AT} / 1000) AT TIME ZONE 'UTC', 'YYYY-MM-DD')`,
  hour: `to_char(to_timestamp(${SPENT_AT} / 1000) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:00"Z"')`,
};

const SUMS = `COALESCE(SUM(r.cost_usd), 0) AS "costUsd", COALESCE(SUM(r.input_tokens), 0) AS "inputTokens", COALESCE(SUM(r.output_tokens), 0) AS "outputTokens",
  COALESCE(SUM(r.cache_read_input_tokens), 0) AS "cacheReadInputTokens", COALESCE(SUM(r.cache_creation_input_tokens), 0) AS "cacheCreationInputTokens",
  COUNT(*) AS requests, COALESCE(SUM(r.num_turns), 0) AS turns`;

const SESSION_JOINS =
  'LEFT JOIN session_links returned ON returned.session_id = r.result_session_id LEFT JOIN session_links resumed ON resumed.session_id = r.session_id';

/**
 * Totals per key of the requests that spent since @since: days in order, other keys costliest first.
 * PostgreSQL orders keys in SQLite's byte order ("C") and, as SQLite does, a null key first.
 */
function grouped(by: CostDimension): SqlStatement {
  const text = (key: string, order: string) =>
    `SELECT ${key} AS key, ${SUMS} FROM completion_requests r ${by === 'session' ? SESSION_JOINS : ''}
     WHERE r.attempts > 0 AND ${SPENT_AT} >= @since
     GROUP BY key ORDER BY ${order}`;
  const order = (nullsFirst: string) => (by === 'day' || by === 'hour' ? 'key' : `"costUsd" DESC, requests DESC, key${nullsFirst}`);
  return sql(text(KEYS[by], order('')), text(`(${POSTGRES_KEYS[by] ?? KEYS[by]}) COLLATE "C"`, order(' NULLS FIRST')));
}

const statements = {
  add: sql(
    `UPDATE completion_requests SET cost_usd = cost_usd + @costUsd, input_tokens = input_tokens + @inputTokens, output_tokens = output_tokens + @outputTokens,
       cache_read_input_tokens = cache_read_input_tokens + @cacheReadInputTokens, cache_creation_input_tokens = cache_creation_input_tokens + @cacheCreationInputTokens,
       num_turns = num_turns + @numTurns, duration_api_ms = duration_api_ms + @durationApiMs
     WHERE request_id = @id`,
  ),
  ofAgent: sql(`SELECT ${SUMS} FROM completion_requests r WHERE r.agent_id = ? AND r.attempts > 0`),
  spent: sql(spentSince()),
  spentByAgent: sql(spentSince('r.agent_id = @key')),
  spentByProfile: sql(spentSince('r.profile = @key')),
  byKey: { agent: grouped('agent'), profile: grouped('profile'), session: grouped('session'), model: grouped('model'), day: grouped('day'), hour: grouped('hour') } satisfies Record<CostDimension, SqlStatement>,
};

/** What completions cost: recorded per attempt on their rows, added up by agent, profile, session, model, day or hour. */
@Injectable()
export class CostRepository {
  constructor(private readonly storage: Storage) {}

  /** Adds one attempt's cost to its request; counters the provider did not report add 0. */
  async record(requestId: string, cost: TurnCost): Promise<void> {
    const added: CostColumns & { id: string } = {
      id: requestId,
      costUsd: cost.cost_usd ?? 0,
      inputTokens: cost.usage.input_tokens,
      outputTokens: cost.usage.output_tokens,
      cacheReadInputTokens: cost.usage.cache_read_input_tokens,
      cacheCreationInputTokens: cost.usage.cache_creation_input_tokens,
      numTurns: cost.num_turns ?? 0,
      durationApiMs: cost.duration_api_ms ?? 0,
    };
    await this.storage.writeStatement(statements.add, added);
  }

  async ofAgentId(agentId: string): Promise<CostTotals> {
    return totals((await this.storage.get<TotalsRow>(statements.ofAgent, [agentId]))!);
  }

  /** USD spent since `since` (epoch ms): by every request, or by one agent's or one profile's. */
  async spent(since: number, by: { agent_id?: string; profile?: string }): Promise<number> {
    const [usd] =
      by.agent_id !== undefined
        ? await this.storage.column<number>(statements.spentByAgent, { key: by.agent_id, since })
        : by.profile !== undefined
          ? await this.storage.column<number>(statements.spentByProfile, { key: by.profile, since })
          : await this.storage.column<number>(statements.spent, { since });
    return roundUsd(Number(usd));
  }

  /** Rows per key of requests that spent since `since` (epoch ms). */
  async byDimension(by: CostDimension, since: number): Promise<(CostTotals & { key: string | null })[]> {
    const rows = await this.storage.all<KeyedTotalsRow>(statements.byKey[by], { since });
    return rows.map((row) => ({ key: row.key, ...totals(row) }));
  }
}


function usageOf(row: TokenColumns): CostUsage {
  return {
    input_tokens: row.inputTokens,
    output_tokens: row.outputTokens,
    cache_read_input_tokens: row.cacheReadInputTokens,
    cache_creation_input_tokens: row.cacheCreationInputTokens,
  };
}

function totals(row: TotalsRow): CostTotals {
  return { cost_usd: roundUsd(row.costUsd), usage: usageOf(row), requests: row.requests, turns: row.turns };
}

/** One request's costs as completion:status shows them. */
export function recordedCost(row: CostColumns): Pick<CompletionRecord, 'cost_usd' | 'usage' | 'num_turns' | 'duration_api_ms'> {
  return { cost_usd: roundUsd(row.costUsd), usage: usageOf(row), num_turns: row.numTurns, duration_api_ms: row.durationApiMs };
}
