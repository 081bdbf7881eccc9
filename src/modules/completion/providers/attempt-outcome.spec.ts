import { classifyFailure } from './attempt-outcome';

describe('classifyFailure', () => {
  const exited = { code: 1, signal: null };

  it('reads the reset time of a usage limit and retries then', () => {
    expect(classifyFailure('Claude AI usage limit reached|1764000000', exited)).toEqual({ code: 'rate_limited', retryable: true, retryAt: 1_764_000_000_000 });
  });

  it.each(['Rate limit exceeded', 'API Error: 429 Too Many Requests', 'Overloaded'])('retries a rate limit without a reset time: %s', (output) => {
    expect(classifyFailure(output, exited)).toEqual({ code: 'rate_limited', retryable: true });
  });

  it.each(['Invalid API key · Please run /login', 'Not logged in · Please run /login', 'HTTP 401 Unauthorized', '403 Forbidden'])('never retries an authentication failure: %s', (output) => {
    expect(classifyFailure(output, exited)).toEqual({ code: 'auth_error', retryable: false });
  });

  it.each(["error: unknown option '--bogus'", 'Invalid model name', '400 invalid request'])('never retries an invalid request: %s', (output) => {
    expect(classifyFailure(output, exited)).toEqual({ code: 'invalid_request', retryable: false });
  });

  it('retries a process killed by a signal', () => {
    expect(classifyFailure('', { code: null, signal: 'SIGKILL' })).toEqual({ code: 'killed', retryable: true });
  });

  it('retries any other failure', () => {
    expect(classifyFailure('Error: simulated transient failure', exited)).toEqual({ code: 'cli_failed', retryable: true });
  });
});
