import { APIConnectionError, APIConnectionTimeoutError, APIError } from '@anthropic-ai/sdk';
import type { FailureCode } from './attempt-outcome';

export interface ApiFailure {
  code: FailureCode;
  message: string;
  retryable: boolean;
  /** From the `retry-after` header (seconds or an HTTP date), as epoch ms. */
  retryAt?: number;
}

/** The Messages API's error types (the `error.type` of an error body or of an in-stream `error` event) by the class KSI gives them. */
const BY_TYPE: Record<string, { code: FailureCode; retryable: boolean }> = {
  authentication_error: { code: 'auth_error', retryable: false },
  permission_error: { code: 'auth_error', retryable: false },
  invalid_request_error: { code: 'invalid_request', retryable: false },
  not_found_error: { code: 'invalid_request', retryable: false },
  request_too_large: { code: 'invalid_request', retryable: false },
  rate_limit_error: { code: 'rate_limited', retryable: true },
  overloaded_error: { code: 'overloaded', retryable: true },
  api_error: { code: 'api_error', retryable: true },
  timeout_error: { code: 'timeout', retryable: true },
};

/**
 * Why a Messages API call failed, from the SDK's error: the status code first, the error body's type
 * for errors sent inside a stream (they have no status). The message is the API's own.
 */
export function classifyApiError(error: unknown, model: string, now: number): ApiFailure {
  if (error instanceof APIConnectionTimeoutError) return { code: 'timeout', message: 'The Anthropic API did not answer in time', retryable: true };
  if (error instanceof APIConnectionError) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return { code: 'api_unreachable', message: `Could not reach the Anthropic API (${error.message}${cause})`, retryable: true };
  }
  if (!(error instanceof APIError)) {
    return { code: 'invalid_output', message: `The Anthropic API sent a response KSI could not read: ${(error as Error)?.message ?? String(error)}`, retryable: true };
  }
  const said = error.apiMessage ?? error.message;
  const what = [error.status, error.type].filter((part) => part != null).join(' ');
  const message = `Anthropic API: ${said}${what ? ` (${what})` : ''}`;
  const retryAt = retryAtOf(error.headers, now);
  const status = error.status;
  if (status === 401 || status === 403) return { code: 'auth_error', message, retryable: false };
  if (status === 404) return { code: 'invalid_request', message: `${message}; is ${model} a model the API knows? (anthropic/<model> takes the API's model names, e.g. claude-sonnet-4-5)`, retryable: false };
  if (status === 400 || status === 413 || status === 422) return { code: 'invalid_request', message, retryable: false };
  if (status === 429) return { code: 'rate_limited', message, retryable: true, ...(retryAt !== undefined && { retryAt }) };
  if (status === 529 || (status !== undefined && status >= 500)) {
    const overloaded = status === 529 || error.type === 'overloaded_error';
    return { code: overloaded ? 'overloaded' : 'api_error', message, retryable: true, ...(retryAt !== undefined && { retryAt }) };
  }
  if (status === 408 || status === 409) return { code: 'api_error', message, retryable: true };
  if (status !== undefined) return { code: 'invalid_request', message, retryable: false };
  const byType = BY_TYPE[error.type ?? ''] ?? { code: 'api_error', retryable: true };
  return { ...byType, message };
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
