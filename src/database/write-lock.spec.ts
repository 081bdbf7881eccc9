import { Worker } from 'node:worker_threads';
import { WriteLock } from './write-lock';

/** Another thread takes the lock, sets `done` after 100 ms, then releases it (plain Atomics, as the event log's writer does). */
const OTHER_WRITER = `
const { parentPort, workerData } = require('node:worker_threads');
const lock = new Int32Array(workerData.lock);
const done = new Int32Array(workerData.done);
Atomics.compareExchange(lock, 0, 0, 1);
parentPort.postMessage('holding');
Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
Atomics.store(done, 0, 1);
Atomics.store(lock, 0, 0);
Atomics.notify(lock, 0, 1);
`;

describe('WriteLock (two threads, one SharedArrayBuffer)', () => {
  it("waits for the other thread's transaction to end, then runs", async () => {
    const lock = new WriteLock();
    const done = new SharedArrayBuffer(4);
    const other = new Worker(OTHER_WRITER, { eval: true, workerData: { lock: lock.buffer, done } });
    await new Promise((resolve) => other.once('message', resolve));
    const seenByUs = lock.hold(() => Atomics.load(new Int32Array(done), 0));
    expect(seenByUs).toBe(1);
    await new Promise((resolve) => other.once('exit', resolve));
  });

  it('waits without blocking its thread: timers run meanwhile, and it holds the lock once the other released it', async () => {
    const lock = new WriteLock();
    const done = new SharedArrayBuffer(4);
    const other = new Worker(OTHER_WRITER, { eval: true, workerData: { lock: lock.buffer, done } });
    await new Promise((resolve) => other.once('message', resolve));
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 1);
    try {
      expect(await lock.acquireWithoutBlocking()).toBe(true);
    } finally {
      clearInterval(ticker);
    }
    expect(Atomics.load(new Int32Array(done), 0)).toBe(1);
    expect(ticks).toBeGreaterThan(0);
    expect(Atomics.load(new Int32Array(lock.buffer), 0)).toBe(1);
    lock.release();
    await new Promise((resolve) => other.once('exit', resolve));
  });

  it('is free again after a holder that died is released', () => {
    const lock = new WriteLock();
    const dead = new Int32Array(lock.buffer);
    Atomics.store(dead, 0, 1);
    lock.releaseAbandoned();
    expect(lock.hold(() => 'ran')).toBe('ran');
    expect(Atomics.load(dead, 0)).toBe(0);
  });
});
