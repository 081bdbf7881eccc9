import type * as AnthropicSdk from '@anthropic-ai/sdk';
import { PERMANENT_FAILURES, type FailureCode } from './attempt-outcome';

/** The SDK's error classes, from the module the provider loaded when it first needed it. */
export type SdkErrors = Pick<typeof AnthropicSdk, 'APIConnectionError' | 'APIConnectionTimeoutError' | 'APIError'>;

export interface ApiFailure {
  code: FailureCode;
  message: string;
  retryable: boolean;
  /** From the `retry-after` header (seconds or an HTTP date), as epoch ms. */
  retryAt?: number;
}

/** The Messages API's error types (the `error.type` of an error body or of an in-stream `error` event) by KSI's code for them. */
const BY_TYPE: Record<string, FailureCode> = {
  authentication_error: 'auth_error',
  permission_error: 'auth_error',
  billing_error: 'billing_error',
  invalid_request_error: 'invalid_request',
  not_found_error: 'invalid_request',
  request_too_large: 'invalid_request',
  rate_limit_error: 'rate_limited',
  overloaded_error: 'overloaded',
  api_error: 'api_error',
  timeout_error: 'timeout',
};

/**
 * Why a Messages API call failed, from the SDK's error: the status code first, the error body's type
 * for errors sent inside a stream (they have no status). The message is the API's own; whether it is
 * retried follows from the code (PERMANENT_FAILURES), as for every provider.
 */
export function classifyApiError(sdk: SdkErrors, error: unknown, model: string, now: number): ApiFailure {
  if (error instanceof sdk.APIConnectionTimeoutError) return { code: 'timeout', message: 'The Anthropic API did not answer in time', retryable: true };
  if (error instanceof sdk.APIConnectionError) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return { code: 'api_unreachable', message: `Could not reach the Anthropic API (${error.message}${cause})`, retryable: true };
  }
  if (!(error instanceof sdk.APIError)) {
    return { code: 'invalid_output', message: `The Anthropic API sent a response KSI could not read: ${(error as Error)?.message ?? String(error)}`, retryable: true };
  }
  const said = error.apiMessage ?? error.message;
  const what = [error.status, error.type].filter((part) => part != null).join(' ');
  const code = CONTEXT_OVERFLOW.test(said) && error.status === 400 ? 'context_overflow' : codeOf(error.status, error.type ?? undefined);
  const hint = error.status === 404 ? `; is ${model} a model the API knows? (anthropic/<model> takes the API's model names, e.g. claude-sonnet-4-5)` : '';
  const retryAt = code === 'rate_limited' || code === 'overloaded' || code === 'api_error' ? retryAtOf(error.headers, now) : undefined;
  return { code, message: `Anthropic API: ${said}${what ? ` (${what})` : ''}${hint}`, retryable: !PERMANENT_FAILURES.has(code), ...(retryAt !== undefined && { retryAt }) };
}

/** The API's words when a session's messages no longer fit the model's context ("prompt is too long: 210000 tokens > 200000 maximum"). */
const CONTEXT_OVERFLOW = /^(prompt is too long|input is too long)/i;

function codeOf(status: number | undefined, type: string | undefined): FailureCode {
  if (status === 401 || status === 403) return 'auth_error';
  if (status === 402) return 'billing_error';
  if (status === 400 || status === 404 || status === 413 || status === 422) return 'invalid_request';
  if (status === 429) return 'rate_limited';
  if (status === 529 || (status !== undefined && status >= 500 && type === 'overloaded_error')) return 'overloaded';
  if (status === 408 || status === 409 || (status !== undefined && status >= 500)) return 'api_error';
  if (status !== undefined) return 'invalid_request';
  return BY_TYPE[type ?? ''] ?? 'api_error';
}

/** `retry-after` as seconds (`"30"`) or an HTTP date; undefined when absent or unreadable. */
function retryAtOf(headers: Headers | undefined, now: number): number | undefined {
  const value = headers?.get('retry-after');
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return now + seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(now, date);
}
