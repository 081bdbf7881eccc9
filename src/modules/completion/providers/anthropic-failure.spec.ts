import * as sdk from '@anthropic-ai/sdk';
import { classifyApiError } from './anthropic-failure';

const NOW = 1_764_000_000_000;
const body = (type: string, message: string) => ({ type: 'error', error: { type, message } });
/** An error as the SDK makes it from an HTTP answer: status, JSON body, headers. */
const { APIConnectionError, APIConnectionTimeoutError, APIError } = sdk;
const answered = (status: number, type: string, message: string, headers: Record<string, string> = {}) => APIError.generate(status, body(type, message), undefined, new Headers(headers));
/** An `error` event inside a stream: the SDK gives it no status. */
const inStream = (type: string, message: string) => new APIError(undefined, body(type, message), undefined, new Headers(), type as ConstructorParameters<typeof APIError>[4]);
const classify = (error: unknown) => classifyApiError(sdk, error, 'claude-test-1', NOW);

describe('classifyApiError', () => {
  it.each([
    [401, 'authentication_error', 'invalid x-api-key'],
    [403, 'permission_error', 'Your API key does not have permission to use the specified resource.'],
  ])('never retries an authentication failure (%i), in the API’s words', (status, type, message) => {
    expect(classify(answered(status, type, message))).toEqual({ code: 'auth_error', retryable: false, message: `Anthropic API: ${message} (${status} ${type})` });
  });

  it.each([
    [400, 'invalid_request_error', 'max_tokens: Field required'],
    [413, 'request_too_large', 'Request exceeds the maximum allowed number of bytes.'],
    [422, 'invalid_request_error', 'Unprocessable'],
  ])('never retries an invalid request (%i)', (status, type, message) => {
    expect(classify(answered(status, type, message))).toEqual({ code: 'invalid_request', retryable: false, message: `Anthropic API: ${message} (${status} ${type})` });
  });

  it('never retries a billing failure (402), as the CLI provider does not retry it either', () => {
    expect(classify(answered(402, 'billing_error', 'Your credit balance is too low'))).toEqual({ code: 'billing_error', retryable: false, message: 'Anthropic API: Your credit balance is too low (402 billing_error)' });
  });

  it('tells a session that outgrew the context window (context_overflow) from another invalid request, and never retries it', () => {
    expect(classify(answered(400, 'invalid_request_error', 'prompt is too long: 210345 tokens > 200000 maximum'))).toEqual({
      code: 'context_overflow',
      retryable: false,
      message: 'Anthropic API: prompt is too long: 210345 tokens > 200000 maximum (400 invalid_request_error)',
    });
  });

  it('says that a 404 is most likely an unknown model, and never retries it', () => {
    const failure = classify(answered(404, 'not_found_error', 'model: claude-test-1'));
    expect(failure).toMatchObject({ code: 'invalid_request', retryable: false });
    expect(failure.message).toMatch(/^Anthropic API: model: claude-test-1 \(404 not_found_error\); is claude-test-1 a model the API knows\?/);
  });

  it('retries a rate limit at the time retry-after gives, in seconds or as a date', () => {
    expect(classify(answered(429, 'rate_limit_error', 'Number of requests has exceeded your rate limit', { 'retry-after': '7' }))).toEqual({
      code: 'rate_limited',
      retryable: true,
      retryAt: NOW + 7_000,
      message: 'Anthropic API: Number of requests has exceeded your rate limit (429 rate_limit_error)',
    });
    const at = new Date(NOW + 60_000).toUTCString();
    expect(classify(answered(429, 'rate_limit_error', 'slow down', { 'retry-after': at })).retryAt).toBe(Date.parse(at));
  });

  it('retries a rate limit without retry-after by the queue’s backoff', () => {
    const failure = classify(answered(429, 'rate_limit_error', 'slow down'));
    expect(failure).toMatchObject({ code: 'rate_limited', retryable: true });
    expect(failure).not.toHaveProperty('retryAt');
  });

  it('retries an overloaded API (529), honouring retry-after', () => {
    expect(classify(answered(529, 'overloaded_error', 'Overloaded', { 'retry-after': '2' }))).toEqual({ code: 'overloaded', retryable: true, retryAt: NOW + 2_000, message: 'Anthropic API: Overloaded (529 overloaded_error)' });
  });

  it.each([500, 502, 503, 504])('retries a server error (%i)', (status) => {
    expect(classify(answered(status, 'api_error', 'Internal server error'))).toMatchObject({ code: 'api_error', retryable: true });
  });

  it.each([
    ['overloaded_error', 'overloaded', true],
    ['api_error', 'api_error', true],
    ['rate_limit_error', 'rate_limited', true],
    ['invalid_request_error', 'invalid_request', false],
    ['authentication_error', 'auth_error', false],
    ['billing_error', 'billing_error', false],
  ])('classifies an error event inside the stream by its type: %s', (type, code, retryable) => {
    expect(classify(inStream(type, 'said in the stream'))).toEqual({ code, retryable, message: `Anthropic API: said in the stream (${type})` });
  });

  it('retries a connection failure and a connection timeout', () => {
    expect(classify(new APIConnectionError({ message: 'Connection error.', cause: new Error('connect ECONNREFUSED 127.0.0.1:9') }))).toEqual({
      code: 'api_unreachable',
      retryable: true,
      message: 'Could not reach the Anthropic API (Connection error.: connect ECONNREFUSED 127.0.0.1:9)',
    });
    expect(classify(new APIConnectionTimeoutError())).toMatchObject({ code: 'timeout', retryable: true });
  });

  it('retries a stream KSI could not read', () => {
    expect(classify(new SyntaxError('Unexpected token'))).toMatchObject({ code: 'invalid_output', retryable: true });
  });
});
