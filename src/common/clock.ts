/** Wall-clock time in milliseconds; injected so tests and backoff can drive it. */
export interface Clock {
  now(): number;
}

export const CLOCK = Symbol('CLOCK');

export const systemClock: Clock = { now: () => Date.now() };
