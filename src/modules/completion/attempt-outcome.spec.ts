import { classifyFailure } from './attempt-outcome';

describe('classifyFailure', () => {
  const exited = { code: 1, signal: null };

  it('reads the reset time of a usage limit', () => {
    expect(classifyFailure('Claude AI usage limit reached|1700000000', exited)).toEqual({ code: 'rate_limited', retryable: true, retryAt: 1_700_000_000_000 });
  });

  it.each([
    ['Error: 429 Too Many Requests', 'rate_limited', true],
    ['API overloaded, try later', 'rate_limited', true],
    ['Invalid API key · Please run /login', 'auth_error', false],
    ['error: unknown option --nope', 'invalid_request', false],
    ['something else broke', 'cli_failed', true],
  ])('%s → %s', (output, code, retryable) => {
    expect(classifyFailure(output, exited)).toEqual({ code, retryable });
  });

  it('calls an unexplained death by signal killed, and retries it', () => {
    expect(classifyFailure('', { code: null, signal: 'SIGKILL' })).toEqual({ code: 'killed', retryable: true });
  });
});
