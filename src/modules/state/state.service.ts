import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Database, Statement } from 'better-sqlite3';
import { LRUCache } from 'lru-cache';
import { CLOCK, type Clock } from '../../common/clock';
import { KSI_CONFIG, type KsiConfig } from '../../config/config';
import { SQLITE } from '../../database/sqlite.provider';
import { WriteQueue } from '../../database/write-queue';

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

interface CachedEntry {
  json: string;
  expiresAt: number | null;
}

/**
 * The cache's key for (namespace, key): the namespace's length first, so no namespace or key (NUL
 * or any other character included) can make two pairs share a key.
 */
const cacheKeyOf = (namespace: string, key: string) => `${namespace.length}:${namespace}${key}`;

/**
 * Key/value state and FIFO queues in SQLite. Reads are prepared statements behind a write-through
 * cache that is updated only after a write committed; writes go through the WriteQueue.
 */
@Injectable()
export class StateService implements OnModuleInit, OnApplicationShutdown {
  private readonly sql: Record<
    'get' | 'upsert' | 'delete' | 'list' | 'listGlob' | 'sweep' | 'push' | 'head' | 'deleteItem' | 'length' | 'deleteQueue' | 'queues',
    Statement
  >;
  private sweepTimer?: NodeJS.Timeout;
  /** Recently used entries: a SQLite lookup costs more than the rest of a state:get. Bounded in bytes (UTF-16, 2 per character). */
  private readonly cache: LRUCache<string, CachedEntry>;

  constructor(
    @Inject(KSI_CONFIG) config: KsiConfig,
    @Inject(SQLITE) db: Database,
    private readonly writes: WriteQueue,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {
    this.cache = new LRUCache<string, CachedEntry>({
      max: CACHED_ENTRIES,
      maxSize: config.stateCacheBytes,
      // One huge value is read from SQLite instead of emptying the cache of everything else.
      maxEntrySize: Math.max(1, Math.floor(config.stateCacheBytes / 8)),
      sizeCalculation: (entry, cacheKey) => (entry.json.length + cacheKey.length) * 2 + ENTRY_OVERHEAD_BYTES,
    });
    const live = '(expires_at IS NULL OR expires_at > @now)';
    this.sql = {
      get: db.prepare('SELECT value, expires_at FROM state_entries WHERE namespace = ? AND key = ?'),
      upsert: db.prepare(
        `INSERT INTO state_entries (namespace, key, value, metadata, created_at, updated_at, expires_at)
         VALUES (@namespace, @key, @value, @metadata, @now, @now, @expiresAt)
         ON CONFLICT (namespace, key) DO UPDATE SET value = excluded.value, metadata = excluded.metadata,
           updated_at = excluded.updated_at, expires_at = excluded.expires_at`,
      ),
      delete: db.prepare('DELETE FROM state_entries WHERE namespace = ? AND key = ?'),
      list: db.prepare(`SELECT key FROM state_entries WHERE namespace = @namespace AND ${live} ORDER BY key`).pluck(),
      listGlob: db
        .prepare(`SELECT key FROM state_entries WHERE namespace = @namespace AND key GLOB @pattern AND ${live} ORDER BY key`)
        .pluck(),
      sweep: db.prepare('DELETE FROM state_entries WHERE expires_at IS NOT NULL AND expires_at <= ?'),
      push: db.prepare('INSERT INTO queue_items (namespace, queue, value, created_at) VALUES (?, ?, ?, ?)'),
      head: db.prepare('SELECT id, value FROM queue_items WHERE namespace = ? AND queue = ? ORDER BY id LIMIT 1'),
      deleteItem: db.prepare('DELETE FROM queue_items WHERE id = ?'),
      length: db.prepare('SELECT COUNT(*) FROM queue_items WHERE namespace = ? AND queue = ?').pluck(),
      deleteQueue: db.prepare('DELETE FROM queue_items WHERE namespace = ? AND queue = ?'),
      queues: db.prepare('SELECT DISTINCT queue FROM queue_items WHERE namespace = ? ORDER BY queue').pluck(),
    };
  }

  onModuleInit(): void {
    // A failed sweep (say, during shutdown) is simply tried again next time.
    this.sweepTimer = setInterval(() => void this.sweepExpired().catch(() => undefined), SWEEP_INTERVAL_MS).unref();
  }

  onApplicationShutdown(): void {
    clearInterval(this.sweepTimer);
  }

  get(namespace: string, key: string): Found {
    const cacheKey = cacheKeyOf(namespace, key);
    let entry = this.cache.get(cacheKey);
    if (!entry) {
      const row = this.sql.get.get(namespace, key) as { value: string; expires_at: number | null } | undefined;
      if (!row) return { found: false, value: null };
      entry = { json: row.value, expiresAt: row.expires_at };
      this.cache.set(cacheKey, entry);
    }
    if (entry.expiresAt !== null && entry.expiresAt <= this.clock.now()) {
      this.cache.delete(cacheKey);
      return { found: false, value: null };
    }
    return { found: true, value: JSON.parse(entry.json), expiresAt: entry.expiresAt ?? undefined };
  }

  /** Resolves once committed, with the expiry time (epoch ms) when a TTL was given. */
  set(namespace: string, key: string, value: unknown, ttlSeconds?: number, metadata?: Record<string, unknown>): Promise<number | undefined> {
    const now = this.clock.now();
    const expiresAt = ttlSeconds === undefined ? null : now + ttlSeconds * 1000;
    const row = { namespace, key, value: JSON.stringify(value), metadata: metadata ? JSON.stringify(metadata) : null, now, expiresAt };
    return this.writes
      .run(() => this.sql.upsert.run(row))
      .then(() => {
        this.cache.set(cacheKeyOf(namespace, key), { json: row.value, expiresAt });
        return expiresAt ?? undefined;
      });
  }

  delete(namespace: string, key: string): Promise<boolean> {
    return this.writes
      .run(() => this.sql.delete.run(namespace, key).changes > 0)
      .then((deleted) => {
        this.cache.delete(cacheKeyOf(namespace, key));
        return deleted;
      });
  }

  list(namespace: string, pattern?: string): string[] {
    const now = this.clock.now();
    return (pattern === undefined ? this.sql.list.all({ namespace, now }) : this.sql.listGlob.all({ namespace, pattern, now })) as string[];
  }

  /** Appends to a queue; resolves with the new element's position (0 = head). */
  push(namespace: string, queue: string, value: unknown): Promise<number> {
    const json = JSON.stringify(value);
    const now = this.clock.now();
    return this.writes.run(() => {
      this.sql.push.run(namespace, queue, json, now);
      return (this.sql.length.get(namespace, queue) as number) - 1;
    });
  }

  pop(namespace: string, queue: string): Promise<Found> {
    return this.writes.run(() => {
      const row = this.sql.head.get(namespace, queue) as { id: number; value: string } | undefined;
      if (!row) return { found: false, value: null };
      this.sql.deleteItem.run(row.id);
      return { found: true, value: JSON.parse(row.value) };
    });
  }

  peek(namespace: string, queue: string): Found {
    const row = this.sql.head.get(namespace, queue) as { value: string } | undefined;
    return row ? { found: true, value: JSON.parse(row.value) } : { found: false, value: null };
  }

  length(namespace: string, queue: string): number {
    return this.sql.length.get(namespace, queue) as number;
  }

  deleteQueue(namespace: string, queue: string): Promise<number> {
    return this.writes.run(() => this.sql.deleteQueue.run(namespace, queue).changes);
  }

  queues(namespace: string): string[] {
    return this.sql.queues.all(namespace) as string[];
  }

  private async sweepExpired(): Promise<void> {
    const now = this.clock.now();
    await this.writes.run(() => this.sql.sweep.run(now));
  }
}
