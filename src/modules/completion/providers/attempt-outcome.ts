import type { AttemptFailureCode, CostUsage } from '../../../../libs/client/src';

/** Why an attempt failed: the contract's list, since clients see these codes. */
export type FailureCode = AttemptFailureCode;

/** Causes that another attempt cannot cure: such failures are never retried, whichever provider reported them. */
export const PERMANENT_FAILURES: ReadonlySet<FailureCode> = new Set([
  'auth_error',
  'billing_error',
  'invalid_request',
  'session_not_found',
  'context_overflow',
  'max_turns',
  'cli_not_found',
  // Another attempt would spend beyond the budget.
  'max_budget_reached',
  'budget_exhausted',
]);

/** Tokens a turn used, as the Messages API counts them: what cost:* sums. */
export type TurnUsage = CostUsage;

/** What a turn cost; failed turns may cost too. Null where the provider did not say. */
export interface TurnCost {
  cost_usd: number | null;
  usage: TurnUsage;
  num_turns: number | null;
  duration_api_ms: number | null;
}

export type AttemptOutcome =
  | {
      ok: true;
      /** The provider's result object, shaped like the Claude CLI's (`result`, `session_id`, `total_cost_usd`, `usage`, …). */
      response: Record<string, unknown> & { session_id?: string };
      cost: TurnCost;
      durationMs: number;
    }
  | {
      ok: false;
      code: FailureCode;
      message: string;
      retryable: boolean;
      /** When the provider reported a rate-limit reset time (epoch ms). */
      retryAt?: number;
      cost?: TurnCost;
      durationMs: number;
    };
