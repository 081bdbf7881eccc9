import { defineInternal, definePush, defineRequest } from './definition';
import { safeId, z } from './schema';

export const BUDGET_SCOPES = ['agent', 'profile', 'global'] as const;
export type BudgetScope = (typeof BUDGET_SCOPES)[number];
/** total: for all time; day and month: calendar periods in UTC, spending counted afresh in each. */
export const BUDGET_PERIODS = ['total', 'day', 'month'] as const;
export type BudgetPeriod = (typeof BUDGET_PERIODS)[number];

const scope = z.enum(BUDGET_SCOPES).describe('agent (one agent), profile (every agent of a composed profile) or global (every completion)');
const scopeId = safeId('The agent id or profile name; omitted for global').optional();

/** An agent or profile budget names its target; the global one names none. */
const targetRule = <T extends { scope: BudgetScope; id?: string }>(data: T) => (data.scope === 'global' ? data.id === undefined : data.id !== undefined);
const targetIssue = { message: 'Required for scope agent or profile, and not allowed for scope global', path: ['id'] };

export const budgetTargetParams = z.object({ scope, id: scopeId }).refine(targetRule, targetIssue);
export const budgetSetParams = z
  .object({
    scope,
    id: scopeId,
    limit_usd: z.number().finite().min(0).describe('The most the scope may spend in a period (USD)'),
    period: z.enum(BUDGET_PERIODS).default('total').describe('total (default), day or month (UTC calendar periods)'),
  })
  .refine(targetRule, targetIssue);
export const budgetCheckParams = z.object({
  agent_id: z.string().optional().describe('The agent a turn runs for'),
  profile: z.string().nullable().optional().describe('That agent’s composed profile'),
});

export const budgetStatus = z.object({
  scope: z.enum(BUDGET_SCOPES),
  id: z.string().nullable().describe('null for the global budget'),
  limit_usd: z.number(),
  period: z.enum(BUDGET_PERIODS),
  spent_usd: z.number().describe('Spent in the current period, failed attempts included'),
  remaining_usd: z.number().describe('What is left; 0 once spent reaches the limit'),
  exhausted: z.boolean().describe('Turns under this budget are not started until it is raised or a new period begins'),
  period_start: z.number().nullable().describe('The current period began (epoch seconds); null for total'),
  period_end: z.number().nullable().describe('The current period ends (epoch seconds); null for total'),
});
export type BudgetStatus = z.output<typeof budgetStatus>;

export const budgetSet = defineRequest('budget:set', {
  summary: 'Sets the spending limit of an agent, a profile or every completion (global) for all time, per UTC day or per UTC month; raising it resumes stopped agents',
  params: budgetSetParams,
  result: budgetStatus,
});
export const budgetRemove = defineRequest('budget:remove', {
  summary: 'Removes a budget; agents it stopped resume',
  params: budgetTargetParams,
  result: z.object({ removed: z.boolean() }),
});
export const budgetList = defineRequest('budget:list', {
  summary: 'Every budget with what was spent and what is left in its current period',
  params: z.object({}),
  result: z.object({ budgets: z.array(budgetStatus) }),
});
export const budgetStatusEvent = defineRequest('budget:status', {
  summary: 'One budget: spent, remaining, and when its period ends',
  params: budgetTargetParams,
  result: budgetStatus,
});
export const budgetCheck = defineInternal('budget:check', {
  summary: 'Whether a turn may start: the smallest remaining amount of the budgets that apply, and the first exhausted one',
  params: budgetCheckParams,
  result: z.object({
    remaining_usd: z.number().nullable().describe('null when no budget applies'),
    exhausted: budgetStatus.nullable(),
  }),
});
export const budgetExhausted = definePush('budget:exhausted', {
  summary: 'A request was not started, or its turn was stopped at its cap, because a budget is spent; pushed to the connection that sent it',
  payload: budgetStatus.extend({ request_id: z.string(), agent_id: z.string().nullable().describe('The agent the request ran for; it waits as budget_exhausted') }),
});
export const budgetUpdated = defineInternal('budget:updated', {
  summary: 'A budget was set or removed, or a new period began: what it stopped may run again',
  params: z.object({ scope: z.enum(BUDGET_SCOPES), id: z.string().nullable(), reason: z.enum(['set', 'removed', 'new_period']) }),
  result: z.void(),
});

/** Every budget event's definition. */
export const budgetEvents = [budgetSet, budgetRemove, budgetList, budgetStatusEvent, budgetCheck, budgetExhausted, budgetUpdated] as const;
