/** How long a writer waits for the other before going ahead anyway (SQLite's own lock still holds). */
const MAX_WAIT_MS = 5_000;

/**
 * One SQLite file with two writers: the daemon's connection and the event log's writer thread. When
 * both want to write, SQLite makes the loser sleep at least 1 ms in its busy handler; with this lock
 * it waits exactly as long as the other's transaction. It only schedules: correctness still rests on
 * SQLite's locking, so a writer that waited too long proceeds and lets SQLite decide.
 */
export class WriteLock {
  private readonly cell: Int32Array;

  /** Pass another thread's `buffer` to share its lock. */
  constructor(readonly buffer = new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT)) {
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

  /** False when the other writer held it too long: go ahead anyway, and do not release. */
  acquire(): boolean {
    if (Atomics.compareExchange(this.cell, 0, 0, 1) === 0) return true;
    const deadline = Date.now() + MAX_WAIT_MS;
    do {
      Atomics.wait(this.cell, 0, 1, 10);
      if (Atomics.compareExchange(this.cell, 0, 0, 1) === 0) return true;
    } while (Date.now() < deadline);
    return false;
  }

  /**
   * As `acquire`, without blocking the thread while the other writer commits: the daemon's thread
   * goes on reading requests meanwhile, and its next transaction takes what they wrote as well.
   */
  async acquireWithoutBlocking(): Promise<boolean> {
    const deadline = Date.now() + MAX_WAIT_MS;
    while (Atomics.compareExchange(this.cell, 0, 0, 1) !== 0) {
      if (Date.now() >= deadline) return false;
      const waiting = Atomics.waitAsync(this.cell, 0, 1, 10);
      if (waiting.async) await waiting.value;
    }
    return true;
  }

  release(): void {
    Atomics.store(this.cell, 0, 0);
    Atomics.notify(this.cell, 0, 1);
  }
}
