import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { CLOCK, type Clock } from '../../common/clock';
import { KSI_CONFIG, type KsiConfig } from '../../config/config';
import { QueueRepository } from './queue.repository';
import { entryId, StateRepository } from './state.repository';

export interface Found {
  found: boolean;
  value: unknown;
  expiresAt?: number;
}

const SWEEP_INTERVAL_MS = 60_000;
/** At most this many entries, however small; their bytes are bounded by KSI_STATE_CACHE_BYTES. */
const CACHED_ENTRIES = 20_000;
/** What an entry costs beside its text: the object, the map's node and the cache's bookkeeping. */
const ENTRY_OVERHEAD_BYTES = 200;

/** `json` null: the key was read and not found (a client polling for a key pays one read, not one per poll). */
interface CachedEntry {
  json: string | null;
  expiresAt: number | null;
}

const ABSENT: CachedEntry = { json: null, expiresAt: null };


/**
 * Key/value state and FIFO queues. Reads go through a cache of what reads found (a key or its absence), from which a
 * committed write removes its key, while this daemon is the only one that can write its database:
 * always on SQLite; on PostgreSQL while the node knows it is alone (see Storage.soleEpoch).
 * Otherwise every read asks the database: a value acknowledged on one node is what the next read on
 * any node sees.
 */
@Injectable()
export class StateService implements OnModuleInit, OnApplicationShutdown {
  private sweepTimer?: NodeJS.Timeout;
  /** Recently used entries: a SQLite lookup costs more than the rest of a state:get. Bounded in bytes (UTF-16, 2 per character). */
  private readonly cache: LRUCache<string, CachedEntry>;
  /** The sole-writer epoch the cache's entries were read in (see Storage.soleEpoch). */
  private cacheEpoch: number | undefined;
  /** Moves when a write of this node starts and when it ends: a read that saw it move may hold a value from before the write. */
  private writeMoves = 0;

  constructor(
    @Inject(KSI_CONFIG) config: KsiConfig,
    private readonly entries: StateRepository,
    private readonly queueItems: QueueRepository,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {
    this.cache = new LRUCache<string, CachedEntry>({
      max: CACHED_ENTRIES,
      maxSize: config.stateCacheBytes,
      // One huge value is read from SQLite instead of emptying the cache of everything else.
      maxEntrySize: Math.max(1, Math.floor(config.stateCacheBytes / 8)),
      sizeCalculation: (entry, cacheKey) => ((entry.json?.length ?? 0) + cacheKey.length) * 2 + ENTRY_OVERHEAD_BYTES,
    });
  }

  onModuleInit(): void {
    // A failed sweep (say, during shutdown) is simply tried again next time.
    this.sweepTimer = setInterval(() => void this.sweepExpired().catch(() => undefined), SWEEP_INTERVAL_MS).unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.sweepTimer);
  }

  /** A cached entry answers at once, without a promise: state:get is the hottest read. */
  get(namespace: string, key: string): Found | Promise<Found> {
    const cacheKey = entryId(namespace, key);
    const epoch = this.trustedEpoch();
    if (epoch !== undefined) {
      const entry = this.cache.get(cacheKey);
      if (entry) return this.foundIn(cacheKey, entry);
    }
    const moves = this.writeMoves;
    return this.entries.find(namespace, key).then((row) => {
      const read = row ? { json: row.value, expiresAt: row.expiresAt } : ABSENT;
      // A write that started or ended meanwhile may be newer than what the read found.
      if (moves === this.writeMoves) this.remember(cacheKey, read, epoch);
      return this.foundIn(cacheKey, read);
    });
  }

  /** Resolves once committed, with the expiry time (epoch ms) when a TTL was given. */
  set(namespace: string, key: string, value: unknown, ttlSeconds?: number, metadata?: Record<string, unknown>): Promise<number | undefined> {
    const now = this.clock.now();
    const expiresAt = ttlSeconds === undefined ? null : now + ttlSeconds * 1000;
    const row = { namespace, key, value: JSON.stringify(value), metadata: metadata ? JSON.stringify(metadata) : null, now, expiresAt };
    this.writeMoves++;
    return this.entries.upsert(row).then(
      () => {
        this.written(namespace, key);
        return expiresAt ?? undefined;
      },
      (error: unknown) => {
        this.written(namespace, key);
        throw error;
      },
    );
  }

  async delete(namespace: string, key: string): Promise<boolean> {
    this.writeMoves++;
    try {
      return await this.entries.delete(namespace, key);
    } finally {
      this.written(namespace, key);
    }
  }

  list(namespace: string, pattern?: string): Promise<string[]> {
    return this.entries.keys(namespace, this.clock.now(), pattern);
  }

  /** Appends to a queue; resolves with the new element's position (0 = head). */
  push(namespace: string, queue: string, value: unknown): Promise<number> {
    return this.queueItems.push(namespace, queue, JSON.stringify(value), this.clock.now());
  }

  async pop(namespace: string, queue: string): Promise<Found> {
    const json = await this.queueItems.pop(namespace, queue);
    return json === undefined ? { found: false, value: null } : { found: true, value: JSON.parse(json) };
  }

  async peek(namespace: string, queue: string): Promise<Found> {
    const json = await this.queueItems.peek(namespace, queue);
    return json === undefined ? { found: false, value: null } : { found: true, value: JSON.parse(json) };
  }

  length(namespace: string, queue: string): Promise<number> {
    return this.queueItems.length(namespace, queue);
  }

  deleteQueue(namespace: string, queue: string): Promise<number> {
    return this.queueItems.delete(namespace, queue);
  }

  queues(namespace: string): Promise<string[]> {
    return this.queueItems.names(namespace);
  }

  /** The epoch in which the cache may answer now; a new one empties it first. */
  private trustedEpoch(): number | undefined {
    const epoch = this.entries.soleEpoch();
    if (epoch !== this.cacheEpoch && epoch !== undefined) {
      this.cache.clear();
      this.cacheEpoch = epoch;
    }
    return epoch;
  }

  /**
   * A write of the key ended: its entry leaves the cache, and the next read caches what it finds.
   * Not written through: an entry replaced on every write outlives V8's young generation, and the
   * cache then cost pipelined state:set ~10% of its throughput in longer scavenges (measured).
   */
  private written(namespace: string, key: string): void {
    this.writeMoves++;
    this.cache.delete(entryId(namespace, key));
  }

  /** Caches what a read begun in `epoch` found, if no other node could have written since it began. */
  private remember(cacheKey: string, entry: CachedEntry, epoch: number | undefined): void {
    if (epoch !== undefined && this.trustedEpoch() === epoch) this.cache.set(cacheKey, entry);
    else this.cache.delete(cacheKey);
  }

  private foundIn(cacheKey: string, entry: CachedEntry): Found {
    if (entry.json === null) return { found: false, value: null };
    if (entry.expiresAt !== null && entry.expiresAt <= this.clock.now()) {
      this.cache.delete(cacheKey);
      return { found: false, value: null };
    }
    return { found: true, value: JSON.parse(entry.json), expiresAt: entry.expiresAt ?? undefined };
  }

  private sweepExpired(): Promise<void> {
    return this.entries.sweep(this.clock.now());
  }
}
