/**
 * When a failing thread may be started again: after each failure twice as long as after the one
 * before (from `initialMs` up to `maxMs`), back to no wait once it worked.
 */
export class RestartBackoff {
  private delayMs = 0;
  private notBefore = 0;

  constructor(
    private readonly initialMs: number,
    private readonly maxMs: number,
  ) {}

  failed(now: number): void {
    this.delayMs = this.delayMs === 0 ? this.initialMs : Math.min(this.maxMs, this.delayMs * 2);
    this.notBefore = now + this.delayMs;
  }

  succeeded(): void {
    this.delayMs = 0;
    this.notBefore = 0;
  }

  /** Milliseconds to wait before the next start; 0 when it may start now. */
  waitMs(now: number): number {
    return Math.max(0, this.notBefore - now);
  }
}
