import { backoffDelay } from './retry-policy';

describe('backoffDelay (full jitter)', () => {
  const policy = { maxAttempts: 5, initialDelayMs: 2_000, maxDelayMs: 60_000, multiplier: 2 };

  it('bounds attempt n by initial × multiplier^(n-1)', () => {
    expect([1, 2, 3, 4].map((attempt) => backoffDelay(policy, attempt, () => 1))).toEqual([2_000, 4_000, 8_000, 16_000]);
  });

  it('never waits longer than the maximum', () => {
    expect(backoffDelay(policy, 10, () => 1)).toBe(60_000);
    expect(backoffDelay(policy, 1_000, () => 1)).toBe(60_000);
  });

  it('draws uniformly below the bound: zero at the bottom, half in the middle', () => {
    expect(backoffDelay(policy, 3, () => 0)).toBe(0);
    expect(backoffDelay(policy, 3, () => 0.5)).toBe(4_000);
  });

  it('treats attempt 0 like the first', () => {
    expect(backoffDelay(policy, 0, () => 1)).toBe(2_000);
  });

  it('stays flat with a multiplier of 1', () => {
    expect(backoffDelay({ ...policy, multiplier: 1 }, 7, () => 1)).toBe(2_000);
  });
});
