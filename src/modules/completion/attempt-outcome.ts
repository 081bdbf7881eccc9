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
  | 'cancelled';

export type AttemptOutcome =
  | { ok: true; response: Record<string, unknown> & { session_id?: string }; durationMs: number }
  | {
      ok: false;
      code: FailureCode;
      message: string;
      retryable: boolean;
      /** When the CLI reported a rate-limit reset time (epoch ms). */
      retryAt?: number;
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
