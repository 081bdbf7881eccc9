/** Why an attempt failed; the code a client sees in completion:error and completion:status. */
export type FailureCode =
  | 'timeout'
  | 'killed'
  | 'rate_limited'
  | 'auth_error'
  | 'invalid_request'
  | 'cli_not_found'
  | 'cli_failed'
  | 'invalid_output'
  | 'cli_error_result'
  | 'overloaded'
  | 'server_error'
  | 'connection_error'
  | 'cancelled';

/** Tokens a turn used, as the Messages API counts them. */
export interface TurnUsage {
  input_tokens: number;
  output_tokens: number;
  cache_read_input_tokens: number;
  cache_creation_input_tokens: number;
}

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

/** What a failed CLI run said about itself: permanent causes are never retried. */
export function classifyFailure(output: string, exit: { code: number | null; signal: NodeJS.Signals | null }): { code: FailureCode; retryable: boolean; retryAt?: number } {
  const reset = /usage limit reached\|(\d{9,})/i.exec(output);
  if (reset) return { code: 'rate_limited', retryable: true, retryAt: Number(reset[1]) * 1000 };
  if (/rate.?limit|\b429\b|overloaded/i.test(output)) return { code: 'rate_limited', retryable: true };
  if (/invalid api key|authenticat|unauthori[sz]ed|\/login|not logged in|\b401\b|\b403\b/i.test(output)) return { code: 'auth_error', retryable: false };
  if (/invalid request|\b400\b|unknown option|error: option|invalid model/i.test(output)) return { code: 'invalid_request', retryable: false };
  if (exit.signal) return { code: 'killed', retryable: true };
  return { code: 'cli_failed', retryable: true };
}
