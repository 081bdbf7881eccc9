import { defineInternal, defineRequest } from './definition';
import { safeId, z } from './schema';

/** What cost:summary adds up by. A session chain counts under its root session: a conversation's cost is one figure. */
export const COST_DIMENSIONS = ['agent', 'profile', 'session', 'model', 'day', 'hour'] as const;
export type CostDimension = (typeof COST_DIMENSIONS)[number];

const SINCE_AGO = /^(\d+(?:\.\d+)?)\s*(m|h|d|w)$/;
const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

/** Dollars to a nanodollar: sums of binary fractions (0.0001 × 3) otherwise print as 0.00030000000000000003. */
export const roundUsd = (usd: number): number => Math.round(usd * 1e9) / 1e9;

/** Epoch seconds stay below this until the year 5138; epoch milliseconds of today are far above it. */
const EPOCH_SECONDS_LIMIT = 1e11;

export const SINCE_FORMAT = 'a time ago (30m, 12h, 7d, 2w), an ISO date or date-time (2026-01-31, 2026-01-31T09:00Z; UTC unless it names a zone) or Unix epoch seconds (not milliseconds)';

/** `since` as epoch milliseconds, measured back from `now` for a time ago; undefined when it is none of SINCE_FORMAT. */
export function parseSince(since: string | number, now: number): number | undefined {
  // Epoch seconds; a figure this large is milliseconds, which would silently select nothing.
  if (typeof since === 'number') return Number.isFinite(since) && since >= 0 && since < EPOCH_SECONDS_LIMIT ? since * 1000 : undefined;
  const text = since.trim();
  const ago = SINCE_AGO.exec(text);
  if (ago) return now - Number(ago[1]) * UNIT_MS[ago[2] as keyof typeof UNIT_MS];
  if (!ISO_DATE.test(text)) return undefined;
  // A date-time without a zone is UTC, like a date alone, whatever the daemon's time zone.
  const zoned = /T|\s/.test(text) && !/(Z|[+-]\d{2}:?\d{2})$/.test(text) ? `${text.replace(' ', 'T')}Z` : text;
  const at = Date.parse(zoned);
  return Number.isNaN(at) ? undefined : at;
}

export const costSummaryParams = z.object({
  by: z.enum(COST_DIMENSIONS).describe('agent, profile (the agent’s composed profile), session (a chain under its root session), model, day or hour (UTC)'),
  since: z
    .union([z.string(), z.number()])
    .refine((since) => parseSince(since, Date.now()) !== undefined, { message: `Not a time: use ${SINCE_FORMAT}` })
    .optional()
    .describe(`Only requests that finished (or last ran) since then: ${SINCE_FORMAT}`),
});
export const costAgentParams = z.object({ agent_id: safeId('The agent') });

/** Tokens, as the Messages API counts them. */
export const costUsage = z.object({
  input_tokens: z.number(),
  output_tokens: z.number(),
  cache_read_input_tokens: z.number(),
  cache_creation_input_tokens: z.number(),
});
export type CostUsage = z.output<typeof costUsage>;

/** Costs added up over requests: every attempt that reported a cost counts, failed ones too. */
export const costTotals = z.object({
  cost_usd: z.number(),
  usage: costUsage,
  requests: z.number().describe('Requests with at least one attempt'),
  turns: z.number().describe("The model's turns (tool loops count each round)"),
});
export type CostTotals = z.output<typeof costTotals>;

export const costSummaryResult = z.object({
  by: z.enum(COST_DIMENSIONS),
  since: z.number().nullable().describe('The start of the period in epoch seconds; null for all time'),
  rows: z
    .array(costTotals.extend({ key: z.string().nullable().describe('null for requests without one (no agent, no session)') }))
    .describe('One row per key, most expensive first (by day and hour: oldest first)'),
  totals: costTotals,
});
export type CostSummaryResult = z.output<typeof costSummaryResult>;

export const costSummary = defineRequest('cost:summary', {
  summary: `What completions cost (USD, tokens, requests, turns) by agent, profile, session (a chain under its root), model, day or hour (UTC), with totals; since: ${SINCE_FORMAT}`,
  params: costSummaryParams,
  result: costSummaryResult,
});
export const costAgentTotals = defineInternal('cost:agent_totals', {
  summary: "What an agent's completions cost, for agent:info",
  params: costAgentParams,
  result: costTotals,
});
export const costSpent = defineInternal('cost:spent', {
  summary: 'What was spent since a time, by every completion or by those of one agent or one profile, for budgets',
  params: z.object({
    agent_id: z.string().optional(),
    profile: z.string().optional(),
    since: z.number().describe('Epoch milliseconds'),
  }),
  result: z.object({ cost_usd: z.number() }),
});

/** Every cost event's definition. */
export const costEvents = [costSummary, costAgentTotals, costSpent] as const;
