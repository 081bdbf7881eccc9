import { PERMANENT_FAILURES, type FailureCode } from './attempt-outcome';

/** What a finished Claude CLI run said about itself, as parsed from its output. */
export interface CliRunReport {
  /** The `result` line (stream-json) or object (json), when it printed one. */
  result?: Record<string, unknown>;
  /** The `error` of a synthetic assistant message (`authentication_failed`, `rate_limit`, …). */
  assistantError?: string;
  exit: { code: number | null; signal: NodeJS.Signals | null };
  /** The end of stderr. */
  stderr: string;
  /** The end of what stdout printed that was not JSON (old CLIs print some errors as text). */
  plainStdout: string;
}

export interface CliFailure {
  code: FailureCode;
  /** The CLI's own sentence where it gave one. */
  message: string;
  retryable: boolean;
  retryAt?: number;
}

const MAX_MESSAGE_CHARS = 1_000;
/** Usage errors of the CLI's option parser and its own checks of the options, printed on stderr before it starts. */
const USAGE_ERROR = /^error: (unknown option|option|missing required|too many arguments)|^Error: When using --print/m;
const UNKNOWN_SESSION = /^(No conversation found with session ID|Error: --resume requires a valid session ID)/m;

/**
 * Classifies a failed run from the fields the CLI reports (`is_error`, `subtype`, `api_error_status`,
 * `result`, `errors`, `terminal_reason`, an assistant message's `error`), its exit and its stderr.
 * Only the CLI's reason sentence is read as text, never the rest of the output: a result that is no
 * error (`is_error: false`) carries the model's answer, so a non-zero exit after it is judged from the
 * exit and stderr alone.
 */
export function classifyCliFailure(run: CliRunReport): CliFailure {
  const sentence = reasonOf(run);
  const code = codeOf(run, sentence);
  const retryAt = code === 'rate_limited' ? resetTimeOf(sentence) : undefined;
  return { code, message: sentence.slice(0, MAX_MESSAGE_CHARS), retryable: !PERMANENT_FAILURES.has(code), ...(retryAt !== undefined && { retryAt }) };
}

function codeOf(run: CliRunReport, sentence: string): FailureCode {
  const { result, assistantError, exit } = run;
  const status = typeof result?.api_error_status === 'number' ? result.api_error_status : null;
  if (result?.subtype === 'error_max_turns') return 'max_turns';
  if (result?.subtype === 'error_max_budget_usd') return 'max_budget_reached';
  if (UNKNOWN_SESSION.test(sentence)) return 'session_not_found';
  if (assistantError === 'authentication_failed' || status === 401 || status === 403 || /not logged in|invalid api key|please run \/login/i.test(sentence)) return 'auth_error';
  if (assistantError === 'billing_error' || status === 402) return 'billing_error';
  if (assistantError === 'rate_limit' || status === 429 || resetTimeOf(sentence) !== undefined) return 'rate_limited';
  if (status === 529 || /overloaded/i.test(sentence)) return 'overloaded';
  if (assistantError === 'invalid_request' || status === 400 || status === 404 || status === 413 || USAGE_ERROR.test(sentence)) return 'invalid_request';
  if (assistantError === 'server_error' || (status !== null && status >= 500)) return 'api_error';
  if (/unable to connect to api|connection error|request timed out/i.test(sentence)) return 'api_unreachable';
  if (exit.signal || result?.terminal_reason === 'aborted_streaming') return 'killed';
  if (result?.is_error === true) return 'cli_error_result';
  return 'cli_failed';
}

/** The CLI's reason in its own words: an error result's sentence, its `errors`, else stderr or plain stdout. */
function reasonOf({ result, exit, stderr, plainStdout }: CliRunReport): string {
  const isError = result?.is_error === true;
  const text = isError && typeof result.result === 'string' ? result.result.trim() : '';
  if (text) return text;
  const errors = isError && Array.isArray(result.errors) ? result.errors.filter((error): error is string => typeof error === 'string' && !error.startsWith('[ede_diagnostic]')) : [];
  if (errors.length > 0) return errors.join('; ');
  if (result?.subtype === 'error_max_turns') return `Claude reached the maximum number of turns (${String(result.num_turns ?? '?')}) before finishing`;
  const printed = stderr.trim() || plainStdout.trim();
  if (printed) return printed;
  if (exit.signal) return `Claude CLI was killed by ${exit.signal}`;
  if (result?.terminal_reason === 'aborted_streaming') return 'The Claude CLI turn was interrupted before it finished';
  if (result?.is_error === true) return `Claude reported an error (${String(result.subtype ?? 'unknown')})`;
  return `Claude CLI exited with status ${exit.code} and printed no reason`;
}

/** The reset time of a usage limit, as the CLI reports it: `Claude AI usage limit reached|<epoch seconds>`. */
function resetTimeOf(sentence: string): number | undefined {
  const reset = /usage limit reached\|(\d{9,})/i.exec(sentence);
  return reset ? Number(reset[1]) * 1000 : undefined;
}
