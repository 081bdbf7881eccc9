import type { EventLogStats } from '../../../libs/client/src';
import type { EventRecord } from '../../events/event-tap';

/** Events kept by default: enough for per-event latency percentiles, small beside the log itself. */
const RING_SIZE = 10_000;

/** What the stats need of an event. */
type Sample = Pick<EventRecord, 'event_name' | 'timestamp' | 'source' | 'outcome' | 'duration_ms'>;

/** What the latest events tell: the part of monitor:get_stats that comes from memory. */
export type RecentSummary = Pick<EventLogStats, 'in_memory' | 'events_per_second' | 'by_namespace' | 'error_rate' | 'latency'>;

/** The latest events' names, outcomes and durations (their data is not kept), for the stats. */
export class RecentEvents {
  private readonly ring: Sample[] = [];
  private next = 0;

  /** `startedAt`: epoch ms when recording began; the rate is over the last minute, or less while younger. */
  constructor(
    private readonly startedAt: number,
    private readonly size = RING_SIZE,
  ) {}

  add({ event_name, timestamp, source, outcome, duration_ms }: EventRecord): void {
    this.ring[this.next] = { event_name, timestamp, source, outcome, duration_ms };
    this.next = (this.next + 1) % this.size;
  }

  clear(): void {
    this.ring.length = 0;
    this.next = 0;
  }

  /** `now`: epoch ms. */
  summary(now: number): RecentSummary {
    const events = this.inOrder();
    const lastMinute = events.filter((event) => event.timestamp >= now / 1000 - 60).length;
    const byNamespace: Record<string, number> = {};
    const durations = new Map<string, number[]>();
    let external = 0;
    let failed = 0;
    for (const event of events) {
      const namespace = event.event_name.split(':')[0];
      byNamespace[namespace] = (byNamespace[namespace] ?? 0) + 1;
      if (event.source !== 'external') continue;
      external++;
      if (event.outcome !== 'ok') failed++;
      if (event.duration_ms === undefined) continue;
      const list = durations.get(event.event_name);
      if (list) list.push(event.duration_ms);
      else durations.set(event.event_name, [event.duration_ms]);
    }
    const latency = Object.fromEntries(
      [...durations].map(([name, values]) => {
        values.sort((a, b) => a - b);
        return [name, { count: values.length, p50_ms: values[Math.floor(values.length * 0.5)], p99_ms: values[Math.floor(values.length * 0.99)] }];
      }),
    );
    return {
      in_memory: events.length,
      events_per_second: lastMinute / Math.min(60, Math.max(1, (now - this.startedAt) / 1000)),
      by_namespace: byNamespace,
      error_rate: external === 0 ? 0 : failed / external,
      latency,
    };
  }

  private inOrder(): Sample[] {
    return this.ring.length < this.size ? [...this.ring] : [...this.ring.slice(this.next), ...this.ring.slice(0, this.next)];
  }
}
