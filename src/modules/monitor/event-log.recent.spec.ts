import type { EventRecord } from '../../events/event-tap';
import { RecentEvents } from './event-log.recent';

const record = (event_name: string, timestamp: number, extra: Partial<EventRecord> = {}): EventRecord => ({
  event_id: 'e',
  event_name,
  data: {},
  timestamp,
  correlation_id: null,
  source: 'external',
  outcome: 'ok',
  duration_ms: 1,
  ...extra,
});

describe('RecentEvents', () => {
  it('keeps the latest events only, oldest first once the ring wrapped', () => {
    const recent = new RecentEvents(0, 3);
    for (const name of ['a:1', 'b:2', 'c:3', 'd:4']) recent.add(record(name, 100));
    expect(recent.summary(100_000).by_namespace).toEqual({ b: 1, c: 1, d: 1 });
    expect(recent.summary(100_000).in_memory).toBe(3);
  });

  it('counts errors and latency over requests only, and the rate over the last minute', () => {
    const recent = new RecentEvents(0);
    recent.add(record('state:set', 10, { duration_ms: 2 }));
    recent.add(record('state:set', 100, { duration_ms: 4 }));
    recent.add(record('state:get', 100, { outcome: 'invalid_params', duration_ms: 1 }));
    recent.add(record('completion:result', 100, { source: 'internal', outcome: undefined, duration_ms: undefined }));
    const summary = recent.summary(120_000);
    expect(summary.error_rate).toBeCloseTo(1 / 3);
    expect(summary.latency).toEqual({ 'state:set': { count: 2, p50_ms: 4, p99_ms: 4 }, 'state:get': { count: 1, p50_ms: 1, p99_ms: 1 } });
    expect(summary.events_per_second).toBe(3 / 60);
  });

  it('forgets everything when cleared', () => {
    const recent = new RecentEvents(0);
    recent.add(record('state:set', 1));
    recent.clear();
    expect(recent.summary(1_000)).toMatchObject({ in_memory: 0, by_namespace: {}, error_rate: 0, latency: {} });
  });
});
