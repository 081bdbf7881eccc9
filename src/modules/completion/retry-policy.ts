import type { RetryPolicy } from '../../config/config';

/** Full jitter: a random delay up to the exponential bound, so retries of many requests spread out. */
export function backoffDelay(policy: RetryPolicy, failedAttempts: number, random: () => number = Math.random): number {
  const bound = Math.min(policy.maxDelayMs, policy.initialDelayMs * policy.multiplier ** Math.max(0, failedAttempts - 1));
  return Math.round(random() * bound);
}
