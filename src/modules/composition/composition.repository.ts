import { Injectable } from '@nestjs/common';
import { sql } from '../../database/sql-statement';
import { Storage } from '../../database/storage';
import type { CompositionIndexEntry } from './composition-index.entity';

export type IndexEntry = Omit<CompositionIndexEntry, 'indexedAt'>;

const columns = 'type, name, version, description, author, extends, role, tags, capabilities, source, file_path AS "filePath"';
/** SQLite's byte order on PostgreSQL too. */
const byTypeAndName = { sqlite: 'ORDER BY type, name', postgres: 'ORDER BY type COLLATE "C", name COLLATE "C"' };

const statements = {
  dynamicBodies: sql('SELECT body FROM dynamic_compositions'),
  saveDynamic: sql(
    `INSERT INTO dynamic_compositions (name, body, created_at) VALUES (?, ?, ?)
     ON CONFLICT (name) DO UPDATE SET body = excluded.body, created_at = excluded.created_at`,
  ),
  clearIndex: sql('DELETE FROM composition_index'),
  index: sql(
    `INSERT INTO composition_index (name, type, version, description, author, extends, role, tags, capabilities, source, file_path, indexed_at)
     VALUES (@name, @type, @version, @description, @author, @extends, @role, @tags, @capabilities, @source, @filePath, @indexedAt)
     ON CONFLICT (type, name) DO UPDATE SET version = excluded.version, description = excluded.description, author = excluded.author,
       extends = excluded.extends, role = excluded.role, tags = excluded.tags, capabilities = excluded.capabilities,
       source = excluded.source, file_path = excluded.file_path, indexed_at = excluded.indexed_at`,
  ),
  all: sql(`SELECT ${columns} FROM composition_index ${byTypeAndName.sqlite}`, `SELECT ${columns} FROM composition_index ${byTypeAndName.postgres}`),
  ofType: sql(
    `SELECT ${columns} FROM composition_index WHERE type = ? ${byTypeAndName.sqlite}`,
    `SELECT ${columns} FROM composition_index WHERE type = ? ${byTypeAndName.postgres}`,
  ),
  // Every wanted capability and tag among the composition's (JSON arrays on both dialects).
  discover: sql(
    `SELECT ${columns} FROM composition_index
     WHERE (@type IS NULL OR type = @type) AND (@name IS NULL OR instr(name, @name) > 0) AND (@role IS NULL OR role = @role)
       AND NOT EXISTS (SELECT 1 FROM json_each(@capabilities) wanted WHERE wanted.value NOT IN (SELECT value FROM json_each(capabilities)))
       AND NOT EXISTS (SELECT 1 FROM json_each(@tags) wanted WHERE wanted.value NOT IN (SELECT value FROM json_each(tags)))
     ${byTypeAndName.sqlite}`,
    `SELECT ${columns} FROM composition_index
     WHERE (@type::text IS NULL OR type = @type) AND (@name::text IS NULL OR strpos(name, @name) > 0) AND (@role::text IS NULL OR role = @role)
       AND @capabilities::jsonb <@ capabilities::jsonb AND @tags::jsonb <@ tags::jsonb
     ${byTypeAndName.postgres}`,
  ),
};

export interface DiscoverFilter {
  type: string | null;
  name: string | null;
  role: string | null;
  /** JSON arrays of what a composition must all have. */
  capabilities: string;
  tags: string;
}

/** Every query of `composition_index` (rebuilt from the library) and `dynamic_compositions` (made at run time). */
@Injectable()
export class CompositionRepository {
  constructor(private readonly storage: Storage) {}

  /** The compositions made with composition:create, as JSON text. */
  dynamicBodies(): Promise<string[]> {
    return this.storage.column<string>(statements.dynamicBodies);
  }

  /** Stores (or replaces) a run-time composition; resolves once committed. */
  async saveDynamic(name: string, body: string, createdAt: number): Promise<void> {
    await this.storage.writeStatement(statements.saveDynamic, [name, body, createdAt]);
  }

  /** Replaces the whole index in one transaction. */
  async replaceIndex(entries: CompositionIndexEntry[]): Promise<void> {
    await this.storage.write(async (tx) => {
      await tx.run(statements.clearIndex);
      for (const entry of entries) await tx.run(statements.index, entry);
    });
  }

  /** By type, then name; `type` undefined for all. */
  list(type?: string): Promise<IndexEntry[]> {
    return type === undefined ? this.storage.all<IndexEntry>(statements.all) : this.storage.all<IndexEntry>(statements.ofType, [type]);
  }

  discover(filter: DiscoverFilter): Promise<IndexEntry[]> {
    return this.storage.all<IndexEntry>(statements.discover, filter);
  }
}
