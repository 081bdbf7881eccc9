import * as path from 'node:path';
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

/** Another thread takes the lock and holds it until told to let go through `go`. */
const UNTIL_TOLD = `
const { parentPort, workerData } = require('node:worker_threads');
const lock = new Int32Array(workerData.lock);
const go = new Int32Array(workerData.go);
Atomics.compareExchange(lock, 0, 0, 1);
parentPort.postMessage('holding');
while (Atomics.load(go, 0) === 0) Atomics.wait(go, 0, 0, 5);
Atomics.store(lock, 0, 0);
Atomics.notify(lock, 0, 1);
`;

/** The compiled WriteLock (the e2e tests run dist/ too): the writer's side under test is its blocking acquire. */
const COMPILED_WRITE_LOCK = path.resolve(__dirname, '../../dist/src/database/write-lock.js');

/** The event log's writer during a long delete: 2 ms transactions back to back for 3 s, through WriteLock.hold. */
const BACK_TO_BACK = `
const { parentPort, workerData } = require('node:worker_threads');
const { WriteLock } = require(workerData.module);
const lock = new WriteLock(workerData.lock);
const end = Date.now() + 3000;
let first = true;
while (Date.now() < end) {
  lock.hold(() => {
    if (first) parentPort.postMessage('holding');
    first = false;
    const until = Date.now() + 2;
    while (Date.now() < until);
  });
}
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
    const go = new SharedArrayBuffer(4);
    const other = new Worker(UNTIL_TOLD, { eval: true, workerData: { lock: lock.buffer, go } });
    await new Promise((resolve) => other.once('message', resolve));
    let ticks = 0;
    // The other writer lets go only after this thread ran timers while it waited.
    const ticker = setInterval(() => {
      if (++ticks === 5) Atomics.store(new Int32Array(go), 0, 1);
    }, 1);
    try {
      expect(await lock.acquireWithoutBlocking()).toBe(true);
    } finally {
      clearInterval(ticker);
    }
    expect(ticks).toBeGreaterThanOrEqual(5);
    expect(Atomics.load(new Int32Array(lock.buffer), 0)).toBe(1);
    lock.release();
    await new Promise((resolve) => other.once('exit', resolve));
  });

  it('goes first when the other writer commits back to back: the writer lets a waiting daemon thread in', async () => {
    const lock = new WriteLock();
    const other = new Worker(BACK_TO_BACK, { eval: true, workerData: { lock: lock.buffer, module: COMPILED_WRITE_LOCK } });
    await new Promise((resolve) => other.once('message', resolve));
    // A busy daemon thread: its event loop gets round to the lock only between 2 ms slices of work.
    let busy = true;
    const work = () => {
      const until = Date.now() + 2;
      while (Date.now() < until);
      if (busy) setImmediate(work);
    };
    setImmediate(work);
    const started = Date.now();
    try {
      expect(await lock.acquireWithoutBlocking()).toBe(true);
    } finally {
      busy = false;
    }
    const waitedMs = Date.now() - started;
    lock.release();
    await new Promise((resolve) => other.once('exit', resolve));
    // Without the writer yielding, such a wait measured 0.5 to 1.7 s; with it, one transaction and a turn of the loop.
    expect(waitedMs).toBeLessThan(300);
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
