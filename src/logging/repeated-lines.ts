/** Keys remembered at most; past this the oldest are forgotten (and their next line is written). */
const MAX_KEYS = 1_000;

/**
 * Lets the same line through once a window: a loop retrying every second while the database is away
 * would otherwise fill the log (and the disk) with copies. The first line after a window says how
 * many copies were left out.
 */
export class RepeatedLines {
  /** Per key: when a copy was last written, and how many were left out since. */
  private readonly seen = new Map<string, { writtenAt: number; leftOut: number }>();

  constructor(
    private readonly windowMs: number,
    private readonly now: () => number,
  ) {}

  /** Undefined: leave this copy out. Otherwise write it, with how many copies were left out before it. */
  admit(key: string): number | undefined {
    const now = this.now();
    const entry = this.seen.get(key);
    if (entry && now - entry.writtenAt < this.windowMs) {
      entry.leftOut++;
      return undefined;
    }
    const leftOut = entry?.leftOut ?? 0;
    this.seen.delete(key);
    this.seen.set(key, { writtenAt: now, leftOut: 0 });
    if (this.seen.size > MAX_KEYS) this.seen.delete(this.seen.keys().next().value!);
    return leftOut;
  }
}
