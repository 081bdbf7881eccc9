import { Injectable } from '@nestjs/common';
import { globPattern } from '../../database/glob-pattern';
import { sql } from '../../database/sql-statement';
import { Storage } from '../../database/storage';
import type { StateEntry } from './state-entry.entity';

const live = '(expires_at IS NULL OR expires_at > @now)';

const statements = {
  get: sql('SELECT value, expires_at AS "expiresAt" FROM state_entries WHERE namespace = ? AND key = ?'),
  upsert: sql(
    `INSERT INTO state_entries (namespace, key, value, metadata, created_at, updated_at, expires_at)
     VALUES (@namespace, @key, @value, @metadata, @now, @now, @expiresAt)
     ON CONFLICT (namespace, key) DO UPDATE SET value = excluded.value, metadata = excluded.metadata,
       updated_at = excluded.updated_at, expires_at = excluded.expires_at`,
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

/** Every query of `state_entries`. Times are epoch ms. */
@Injectable()
export class StateRepository {
  constructor(private readonly storage: Storage) {}

  find(namespace: string, key: string): Promise<StateRow | undefined> {
    return this.storage.get<StateRow>(statements.get, [namespace, key]);
  }

  /** Resolves once committed. */
  upsert(row: StateWrite): Promise<number> {
    return this.storage.write((tx) => tx.run(statements.upsert, row));
  }

  /** Resolves once committed, with whether a row was there. */
  delete(namespace: string, key: string): Promise<boolean> {
    return this.storage.write(async (tx) => (await tx.run(statements.delete, [namespace, key])) > 0);
  }

  /** Live keys in key order; `pattern` is a glob (`*`, `?`, `[...]`). */
  keys(namespace: string, now: number, pattern?: string): Promise<string[]> {
    if (pattern === undefined) return this.storage.column<string>(statements.list, { namespace, now });
    const match = this.storage.dialect === 'postgres' ? globPattern(pattern) : pattern;
    return this.storage.column<string>(statements.listGlob, { namespace, pattern: match, now });
  }

  /** Deletes the entries expired at `now`. */
  async sweep(now: number): Promise<void> {
    await this.storage.write((tx) => tx.run(statements.sweep, [now]));
  }
}
