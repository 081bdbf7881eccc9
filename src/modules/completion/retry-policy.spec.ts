import { backoffDelay } from './retry-policy';

describe('backoffDelay (full jitter)', () => {
  const policy = { maxAttempts: 5, initialDelayMs: 300, maxDelayMs: 1_000, multiplier: 2 };

  it('draws up to initial × multiplier^(attempt-1), capped at the maximum', () => {
    expect([1, 2, 3, 4].map((attempt) => backoffDelay(policy, attempt, () => 1))).toEqual([300, 600, 1_000, 1_000]);
  });

  it('scales the bound by the random draw, in whole milliseconds', () => {
    expect(backoffDelay(policy, 2, () => 0.5)).toBe(300);
    expect(backoffDelay(policy, 1, () => 0.0001)).toBe(0);
  });
});
