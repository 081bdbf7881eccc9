import type { EventLogStats } from '../../../libs/client/src';
import type { EventRecord } from '../../events/event-tap';

/** Events kept by default: enough for per-event latency percentiles, small beside the log itself. */
const RING_SIZE = 10_000;

/** What a slot says of its event besides name, time and duration. */
const INTERNAL = 0;
const EXTERNAL_OK = 1;
const EXTERNAL_FAILED = 2;

/** What the latest events tell: the part of monitor:get_stats that comes from memory. */
export type RecentSummary = Pick<EventLogStats, 'in_memory' | 'events_per_second' | 'by_namespace' | 'error_rate' | 'latency'>;

/**
 * The latest events' names, outcomes and durations (their data is not kept), for the stats. Kept in
 * columns, not an object per event: every request adds one, and ten thousand objects that each
 * young-generation collection must copy made state:get 10-14% slower (npm run bench).
 */
export class RecentEvents {
  private readonly names: string[];
  /** Epoch seconds. */
  private readonly timestamps: Float64Array;
  /** NaN: none measured (internal events). */
  private readonly durations: Float64Array;
  private readonly kinds: Uint8Array;
  private next = 0;
  private filled = 0;

  /** `startedAt`: epoch ms when recording began; the rate is over the last minute, or less while younger. */
  constructor(
    private readonly startedAt: number,
    private readonly size = RING_SIZE,
  ) {
    this.names = new Array<string>(size).fill('');
    this.timestamps = new Float64Array(size);
    this.durations = new Float64Array(size);
    this.kinds = new Uint8Array(size);
  }

  add({ event_name, timestamp, source, outcome, duration_ms }: EventRecord): void {
    const slot = this.next;
    this.names[slot] = event_name;
    this.timestamps[slot] = timestamp;
    this.durations[slot] = duration_ms ?? NaN;
    this.kinds[slot] = source !== 'external' ? INTERNAL : outcome === 'ok' ? EXTERNAL_OK : EXTERNAL_FAILED;
    this.next = (slot + 1) % this.size;
    if (this.filled < this.size) this.filled++;
  }

  clear(): void {
    this.names.fill('');
    this.next = 0;
    this.filled = 0;
  }

  /** `now`: epoch ms. */
  summary(now: number): RecentSummary {
    const minuteAgo = now / 1000 - 60;
    const byNamespace: Record<string, number> = {};
    const durations = new Map<string, number[]>();
    let lastMinute = 0;
    let external = 0;
    let failed = 0;
    for (let slot = 0; slot < this.filled; slot++) {
      const name = this.names[slot];
      if (this.timestamps[slot] >= minuteAgo) lastMinute++;
      const namespace = name.split(':')[0];
      byNamespace[namespace] = (byNamespace[namespace] ?? 0) + 1;
      const kind = this.kinds[slot];
      if (kind === INTERNAL) continue;
      external++;
      if (kind === EXTERNAL_FAILED) failed++;
      const duration = this.durations[slot];
      if (Number.isNaN(duration)) continue;
      const list = durations.get(name);
      if (list) list.push(duration);
      else durations.set(name, [duration]);
    }
    const latency = Object.fromEntries(
      [...durations].map(([name, values]) => {
        values.sort((a, b) => a - b);
        return [name, { count: values.length, p50_ms: values[Math.floor(values.length * 0.5)], p99_ms: values[Math.floor(values.length * 0.99)] }];
      }),
    );
    return {
      in_memory: this.filled,
      events_per_second: lastMinute / Math.min(60, Math.max(1, (now - this.startedAt) / 1000)),
      by_namespace: byNamespace,
      error_rate: external === 0 ? 0 : failed / external,
      latency,
    };
  }
}
