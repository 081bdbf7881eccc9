import { Injectable } from '@nestjs/common';
import DataLoader from 'dataloader';
import { globPattern } from '../../database/glob-pattern';
import { sql } from '../../database/sql-statement';
import { Storage, type RowWrite } from '../../database/storage';
import type { StateEntry } from './state-entry.entity';

const live = '(expires_at IS NULL OR expires_at > @now)';
const onConflictUpdate = `ON CONFLICT (namespace, key) DO UPDATE SET value = excluded.value, metadata = excluded.metadata,
       updated_at = excluded.updated_at, expires_at = excluded.expires_at`;

const statements = {
  get: sql('SELECT value, expires_at AS "expiresAt" FROM state_entries WHERE namespace = ? AND key = ?'),
  // Positional: better-sqlite3 binds an array faster than named values (~0.5 µs of each state:set, measured).
  upsert: sql(
    `INSERT INTO state_entries (namespace, key, value, metadata, created_at, updated_at, expires_at)
     VALUES (?, ?, ?, ?, ?, ?, ?)
     ${onConflictUpdate}`,
  ),
  // PostgreSQL only: many rows in one statement, one array per column.
  upsertMany: sql(
    `INSERT INTO state_entries (namespace, key, value, metadata, created_at, updated_at, expires_at)
     SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::float8[], $6::float8[], $7::float8[])
     ${onConflictUpdate}`,
  ),
  // PostgreSQL only: the entries of many (namespace, key) pairs, one array per column.
  getMany: sql(
    `SELECT namespace, key, value, expires_at AS "expiresAt" FROM state_entries
     WHERE (namespace, key) IN (SELECT * FROM unnest($1::text[], $2::text[]))`,
  ),
  delete: sql('DELETE FROM state_entries WHERE namespace = ? AND key = ?'),
  // PostgreSQL orders text by the database's collation unless told: "C" is SQLite's byte order.
  list: sql(
    `SELECT key FROM state_entries WHERE namespace = @namespace AND ${live} ORDER BY key`,
    `SELECT key FROM state_entries WHERE namespace = @namespace AND ${live} ORDER BY key COLLATE "C"`,
  ),
  // SQLite's GLOB, and the same match as a POSIX regular expression on PostgreSQL (see globPattern).
  listGlob: sql(
    `SELECT key FROM state_entries WHERE namespace = @namespace AND key GLOB @pattern AND ${live} ORDER BY key`,
    `SELECT key FROM state_entries WHERE namespace = @namespace AND key ~ @pattern AND ${live} ORDER BY key COLLATE "C"`,
  ),
  sweep: sql('DELETE FROM state_entries WHERE expires_at IS NOT NULL AND expires_at <= ?'),
};

export type StateRow = Pick<StateEntry, 'value' | 'expiresAt'>;

/** A value (JSON text) to store, written at `now`. */
export type StateWrite = Pick<StateEntry, 'namespace' | 'key' | 'value' | 'metadata' | 'expiresAt'> & { now: number };

/**
 * One string per (namespace, key): the namespace's length first, so no namespace or key (NUL or any
 * other character included) can make two pairs share it.
 */
export const entryId = (namespace: string, key: string) => `${namespace.length}:${namespace}${key}`;

/** The values of `upsert`, in its columns' order. */
type UpsertValues = [namespace: string, key: string, value: string, metadata: string | null, createdAt: number, updatedAt: number, expiresAt: number | null];
const CREATED_AT = 4;

const upserts: RowWrite<UpsertValues> = {
  one: statements.upsert,
  many: statements.upsertMany,
  /** A key written twice in the batch: one row with the first write's time as its creation and the last write's content, as if written in turn. */
  manyValues(rows) {
    const byKey = new Map<string, { row: UpsertValues; createdAt: number }>();
    for (const row of rows) {
      const id = entryId(row[0], row[1]);
      byKey.set(id, { row, createdAt: byKey.get(id)?.createdAt ?? row[CREATED_AT] });
    }
    const columns: unknown[][] = [[], [], [], [], [], [], []];
    for (const { row, createdAt } of byKey.values()) {
      for (let i = 0; i < row.length; i++) columns[i].push(i === CREATED_AT ? createdAt : row[i]);
    }
    return columns;
  },
};

/** Every query of `state_entries`. Times are epoch ms. */
@Injectable()
export class StateRepository {
  /**
   * PostgreSQL: the reads asked in the same turn of the event loop (all the requests read from the
   * sockets in it: hence setImmediate) go as one statement, a round trip for all of them; a read on
   * SQLite takes microseconds. Each is still sent after it was asked, so it sees every write
   * acknowledged before; nothing is cached here.
   */
  private readonly reads = new DataLoader<readonly [string, string], StateRow | undefined>((pairs) => this.findMany(pairs), {
    cache: false,
    batchScheduleFn: (send) => setImmediate(send),
  });

  constructor(private readonly storage: Storage) {}

  /** See Storage.soleEpoch: while it holds, what was read here may be answered from memory. */
  soleEpoch(): number | undefined {
    return this.storage.soleEpoch();
  }

  find(namespace: string, key: string): Promise<StateRow | undefined> {
    if (this.storage.dialect === 'postgres') return this.reads.load([namespace, key]);
    return this.storage.get<StateRow>(statements.get, [namespace, key]);
  }

  private async findMany(pairs: readonly (readonly [string, string])[]): Promise<(StateRow | undefined)[]> {
    if (pairs.length === 1) return [await this.storage.get<StateRow>(statements.get, [...pairs[0]])];
    const rows = await this.storage.all<StateRow & { namespace: string; key: string }>(statements.getMany, [pairs.map(([namespace]) => namespace), pairs.map(([, key]) => key)]);
    const byId = new Map(rows.map(({ namespace, key, value, expiresAt }) => [entryId(namespace, key), { value, expiresAt }]));
    return pairs.map(([namespace, key]) => byId.get(entryId(namespace, key)));
  }

  /** Resolves once committed. */
  upsert({ namespace, key, value, metadata, now, expiresAt }: StateWrite): Promise<void> {
    return this.storage.writeRow(upserts, [namespace, key, value, metadata, now, now, expiresAt]);
  }

  /** Resolves once committed, with whether a row was there. */
  delete(namespace: string, key: string): Promise<boolean> {
    return this.storage.writeStatement(statements.delete, [namespace, key]).then((changes) => changes > 0);
  }

  /** Live keys in key order; `pattern` is a glob (`*`, `?`, `[...]`). */
  keys(namespace: string, now: number, pattern?: string): Promise<string[]> {
    if (pattern === undefined) return this.storage.column<string>(statements.list, { namespace, now });
    const match = this.storage.dialect === 'postgres' ? globPattern(pattern) : pattern;
    return this.storage.column<string>(statements.listGlob, { namespace, pattern: match, now });
  }

  /** Deletes the entries expired at `now`; on one node at a time when several share the database. */
  async sweep(now: number): Promise<void> {
    await this.storage.exclusively('ksi_state_sweep', () => this.storage.writeStatement(statements.sweep, [now]));
  }
}
