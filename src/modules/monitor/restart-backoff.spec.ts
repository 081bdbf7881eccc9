import { RestartBackoff } from './restart-backoff';

describe('RestartBackoff', () => {
  it('starts at once until a failure, then waits twice as long after each further failure, up to the maximum', () => {
    const backoff = new RestartBackoff(100, 350);
    expect(backoff.waitMs(0)).toBe(0);
    backoff.failed(1_000);
    expect(backoff.waitMs(1_000)).toBe(100);
    expect(backoff.waitMs(1_060)).toBe(40);
    expect(backoff.waitMs(1_100)).toBe(0);
    backoff.failed(2_000);
    expect(backoff.waitMs(2_000)).toBe(200);
    backoff.failed(3_000);
    expect(backoff.waitMs(3_000)).toBe(350);
  });

  it('waits no more once a start worked', () => {
    const backoff = new RestartBackoff(100, 1_000);
    backoff.failed(0);
    backoff.failed(0);
    backoff.succeeded();
    expect(backoff.waitMs(0)).toBe(0);
    backoff.failed(0);
    expect(backoff.waitMs(0)).toBe(100);
  });
});
