/** How long a writer waits for the other before going ahead anyway (SQLite's own lock still holds). */
const MAX_WAIT_MS = 5_000;
/** How long the event log's writer lets a waiting daemon thread go first before it takes the lock anyway. */
const MAX_YIELD_MS = 50;

/** The cells of the shared buffer. */
const HELD = 0;
const DAEMON_WAITING = 1;

/**
 * One SQLite file with two writers: the daemon's connection and the event log's writer thread. When
 * both want to write, SQLite makes the loser sleep at least 1 ms in its busy handler; with this lock
 * it waits exactly as long as the other's transaction. It only schedules: correctness still rests on
 * SQLite's locking, so a writer that waited too long proceeds and lets SQLite decide.
 *
 * The daemon's thread waits without blocking (acquireWithoutBlocking), so it can only try between
 * two of the writer's transactions once its event loop gets round to it; a writer committing back to
 * back (a long delete) would keep it out. So while it waits, the writer lets it go first.
 */
export class WriteLock {
  private readonly cell: Int32Array;

  /** Pass another thread's `buffer` to share its lock. */
  constructor(readonly buffer = new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT)) {
    this.cell = new Int32Array(buffer);
  }

  hold<T>(work: () => T): T {
    const acquired = this.acquire();
    try {
      return work();
    } finally {
      if (acquired) this.release();
    }
  }

  /** Frees a lock whose holder died (a writer thread that exited). Only from a thread that does not hold it. */
  releaseAbandoned(): void {
    this.release();
  }

  /** Blocks the thread (the event log's writer). False when the other writer held it too long: go ahead anyway, and do not release. */
  acquire(): boolean {
    const yieldUntil = Date.now() + MAX_YIELD_MS;
    while (Atomics.load(this.cell, DAEMON_WAITING) === 1 && Date.now() < yieldUntil) Atomics.wait(this.cell, DAEMON_WAITING, 1, 10);
    if (Atomics.compareExchange(this.cell, HELD, 0, 1) === 0) return true;
    const deadline = Date.now() + MAX_WAIT_MS;
    do {
      Atomics.wait(this.cell, HELD, 1, 10);
      if (Atomics.compareExchange(this.cell, HELD, 0, 1) === 0) return true;
    } while (Date.now() < deadline);
    return false;
  }

  /**
   * As `acquire`, without blocking the thread while the other writer commits: the daemon's thread
   * goes on reading requests meanwhile, and its next transaction takes what they wrote as well.
   */
  async acquireWithoutBlocking(): Promise<boolean> {
    if (Atomics.compareExchange(this.cell, HELD, 0, 1) === 0) return true;
    Atomics.store(this.cell, DAEMON_WAITING, 1);
    try {
      const deadline = Date.now() + MAX_WAIT_MS;
      while (Atomics.compareExchange(this.cell, HELD, 0, 1) !== 0) {
        if (Date.now() >= deadline) return false;
        const waiting = Atomics.waitAsync(this.cell, HELD, 1, 10);
        if (waiting.async) await waiting.value;
      }
      return true;
    } finally {
      Atomics.store(this.cell, DAEMON_WAITING, 0);
      Atomics.notify(this.cell, DAEMON_WAITING);
    }
  }

  release(): void {
    Atomics.store(this.cell, HELD, 0);
    Atomics.notify(this.cell, HELD, 1);
  }
}
