import { EventLogBuffer } from './event-log.buffer';

const limits = { maxBytes: 1_000, batchRows: 3, batchBytes: 600, maxBatchesInFlight: 1 };
const add = (buffer: EventLogBuffer, dataChars = 10) => buffer.add(1, 'm', 'd'.repeat(dataChars));

describe('EventLogBuffer', () => {
  it('makes a batch ready at its row count or its bytes', () => {
    const byRows = new EventLogBuffer(limits);
    add(byRows);
    add(byRows);
    expect(byRows.batchReady).toBe(false);
    add(byRows);
    expect(byRows.batchReady).toBe(true);
    const byBytes = new EventLogBuffer(limits);
    add(byBytes, 600);
    expect(byBytes.batchReady).toBe(true);
  });

  it('holds a ready batch back while the writer has as many batches as allowed', () => {
    const buffer = new EventLogBuffer(limits);
    for (let i = 0; i < 3; i++) add(buffer);
    const first = buffer.take()!;
    expect(first).toMatchObject({ count: 3, rows: [1, 'm', 'd'.repeat(10), 1, 'm', 'd'.repeat(10), 1, 'm', 'd'.repeat(10)] });
    for (let i = 0; i < 3; i++) add(buffer);
    expect(buffer.batchReady).toBe(false);
    buffer.settled(first);
    expect(buffer.batchReady).toBe(true);
  });

  it('drops and counts what does not fit beside the waiting rows and the batches in flight', () => {
    const buffer = new EventLogBuffer(limits);
    expect(add(buffer, 400)).toBe(true);
    const inFlight = buffer.take()!;
    expect(add(buffer, 400)).toBe(true);
    expect(add(buffer, 400)).toBe(false);
    expect(buffer.dropped).toBe(1);
    expect(buffer.waiting).toBe(1);
    buffer.settled(inFlight);
    expect(add(buffer, 400)).toBe(true);
  });

  it('discards the waiting rows and says how many', () => {
    const buffer = new EventLogBuffer(limits);
    add(buffer);
    add(buffer);
    expect(buffer.discardWaiting()).toBe(2);
    expect(buffer.take()).toBeUndefined();
  });
});
