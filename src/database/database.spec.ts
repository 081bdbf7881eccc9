import Database from 'better-sqlite3';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DataSource } from 'typeorm';
import { ENTITIES } from './entities';
import { sqliteMigrations as migrations } from './migrations/sqlite';
import { sql } from './sql-statement';
import { SqliteStorage } from './sqlite-storage';
import type { RowWrite } from './storage';
import { WriteLock } from './write-lock';

describe('database (real SQLite files)', () => {
  let dir: string;
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ksi-db-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('the migrations build exactly the schema the entities describe', async () => {
    const dataSource = new DataSource({
      type: 'better-sqlite3',
      database: path.join(dir, 'schema.db'),
      entities: ENTITIES,
      migrations,
      migrationsRun: true,
    });
    await dataSource.initialize();
    const pending = await dataSource.driver.createSchemaBuilder().log();
    await dataSource.destroy();
    expect(pending.upQueries.map((query) => query.query)).toEqual([]);
  });

  // TypeORM's schema builder does not compare an index's condition; the statements that built each index do.
  it('the migrations build every index the entities describe, conditions included', async () => {
    const indexes = async (options: { migrations: typeof migrations } | { entities: typeof ENTITIES; synchronize: true }, file: string) => {
      const dataSource = new DataSource({ type: 'better-sqlite3', database: path.join(dir, file), migrationsRun: 'migrations' in options, ...options });
      await dataSource.initialize();
      const rows: { name: string; sql: string }[] = await dataSource.query(`SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name`);
      await dataSource.destroy();
      return rows.map(({ name, sql }) => `${name}: ${sql.replace(/\s+/g, ' ').trim()}`);
    };
    const described = await indexes({ entities: ENTITIES, synchronize: true }, 'described.db');
    expect(described).toContain('idx_state_entries_expires_at: CREATE INDEX "idx_state_entries_expires_at" ON "state_entries" ("expires_at") WHERE "expires_at" IS NOT NULL');
    expect(await indexes({ migrations }, 'migrated.db')).toEqual(described);
  });

  it('the compact event log keeps the rows logged before it, readable by the same column names, and never reuses an id', async () => {
    const file = path.join(dir, 'upgrade.db');
    const compactedAt = migrations.findIndex((migration) => migration.name === 'CompactEventLog1764040000000');
    const before = migrations.slice(0, compactedAt);
    const old = new DataSource({ type: 'better-sqlite3', database: file, migrations: before, migrationsRun: true });
    await old.initialize();
    await old.query(
      `INSERT INTO event_log (event_id, parent_id, correlation_id, event_name, timestamp, client_id, agent_id, session_id, source, outcome, duration_ms, data) VALUES ('e-1', NULL, 'cid', 'state:set', 1700000000.5, 'client-1', NULL, 'sess', 'external', 'ok', 0.25, '{"key":"k"}'), ('e-2', NULL, NULL, 'state:get', 1700000001, NULL, NULL, NULL, 'external', 'ok', 0.1, '{}')`,
    );
    await old.query(`DELETE FROM event_log WHERE event_id = 'e-2'`);
    await old.destroy();
    const compact = new DataSource({ type: 'better-sqlite3', database: file, migrations: migrations.slice(0, compactedAt + 1), migrationsRun: true });
    await compact.initialize();
    const rows = await compact.query('SELECT event_id, parent_id, correlation_id, event_name, timestamp, client_id, agent_id, session_id, source, outcome, duration_ms, data FROM event_log');
    await compact.destroy();
    expect(rows).toEqual([
      { event_id: 'e-1', parent_id: null, correlation_id: 'cid', event_name: 'state:set', timestamp: 1700000000.5, client_id: 'client-1', agent_id: null, session_id: 'sess', source: 'external', outcome: 'ok', duration_ms: 0.25, data: '{"key":"k"}' },
    ]);
    // Its columns dropped later (the queries read meta), the row stays, and ids go on.
    const upgraded = new DataSource({ type: 'better-sqlite3', database: file, migrations, migrationsRun: true });
    await upgraded.initialize();
    await upgraded.query(`INSERT INTO event_log (timestamp, meta, data) VALUES (1700000002, '["e-3"]', '{}')`);
    const kept = await upgraded.query(`SELECT id, meta ->> 0 AS event_id, meta ->> 9 AS duration_ms, data FROM event_log ORDER BY id`);
    await upgraded.destroy();
    expect(kept).toEqual([
      { id: 1, event_id: 'e-1', duration_ms: 0.25, data: '{"key":"k"}' },
      { id: 3, event_id: 'e-3', duration_ms: null, data: '{}' },
    ]);
  });

  describe('SqliteStorage.write', () => {
    let db: Database.Database;
    let queue: SqliteStorage;
    const insert = sql('INSERT INTO t VALUES (?)');
    beforeEach(() => {
      db = new Database(path.join(dir, 'queue.db'));
      db.pragma('journal_mode = WAL');
      db.exec('CREATE TABLE t (v TEXT PRIMARY KEY)');
      queue = new SqliteStorage(db, new WriteLock());
    });
    afterEach(() => db.close());

    it('commits jobs queued together in one transaction, resolving after the commit', async () => {
      const observer = new Database(path.join(dir, 'queue.db'), { readonly: true });
      const visibleToOthers: number[] = [];
      const jobs = Array.from({ length: 20 }, (_, i) =>
        queue.write(async (tx) => {
          await tx.run(insert, [`v${i}`]);
          visibleToOthers.push((observer.prepare('SELECT COUNT(*) AS n FROM t').get() as { n: number }).n);
          return i;
        }),
      );
      expect(await Promise.all(jobs)).toEqual(Array.from({ length: 20 }, (_, i) => i));
      expect(visibleToOthers.every((n) => n === 0)).toBe(true);
      expect(observer.prepare('SELECT COUNT(*) AS n FROM t').get()).toEqual({ n: 20 });
      observer.close();
    });

    it('rolls back only the job that fails', async () => {
      const results = await Promise.allSettled([
        queue.write((tx) => tx.run(insert, ['kept'])),
        queue.write(async (tx) => {
          await tx.run(insert, ['undone']);
          throw new Error('job failed');
        }),
        queue.write((tx) => tx.run(insert, ['kept'])),
        queue.write((tx) => tx.run(insert, ['also kept'])),
      ]);
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled']);
      expect(db.prepare('SELECT v FROM t ORDER BY v').pluck().all()).toEqual(['also kept', 'kept']);
    });

    it('writes rows without a savepoint: a row that fails fails alone, among jobs that commit', async () => {
      const rows: RowWrite<{ v: string }> = { one: sql('INSERT INTO t VALUES (@v)'), many: sql('unused on SQLite'), manyValues: () => [] };
      const results = await Promise.allSettled([
        queue.writeRow(rows, { v: 'a' }),
        queue.writeRow(rows, { v: 'a' }),
        queue.write((tx) => tx.run(insert, ['b'])),
        queue.writeRow(rows, { v: 'c' }),
      ]);
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
      expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ code: 'SQLITE_CONSTRAINT_PRIMARYKEY' });
      expect(db.prepare('SELECT v FROM t ORDER BY v').pluck().all()).toEqual(['a', 'b', 'c']);
    });

    it('writes a statement without a savepoint: one that fails fails alone, among jobs that commit, and each resolves with the rows it changed', async () => {
      const results = await Promise.allSettled([
        queue.writeStatement(insert, ['a']),
        queue.writeStatement(insert, ['a']),
        queue.write((tx) => tx.run(insert, ['b'])),
        queue.writeStatement(sql("UPDATE t SET v = v || '!' WHERE v IN ('a', 'b')")),
      ]);
      expect(results.map((r) => (r.status === 'fulfilled' ? r.value : r.reason.code))).toEqual([1, 'SQLITE_CONSTRAINT_PRIMARYKEY', 1, 2]);
      expect(db.prepare('SELECT v FROM t ORDER BY v').pluck().all()).toEqual(['a!', 'b!']);
    });

    it('waits for the other writer without blocking: what is queued meanwhile commits too once it is done, and flush waits for that commit', async () => {
      const lock = new WriteLock();
      const waiting = new SqliteStorage(db, lock);
      const otherWriterDone = () => new Promise((resolve) => setTimeout(resolve, 20));
      lock.acquire();
      const first = waiting.write((tx) => tx.run(insert, ['queued first']));
      await otherWriterDone();
      const second = waiting.write((tx) => tx.run(insert, ['queued while waiting']));
      let flushed = false;
      const flush = waiting.flush().then(() => (flushed = true));
      await otherWriterDone();
      expect(db.prepare('SELECT COUNT(*) AS n FROM t').get()).toEqual({ n: 0 });
      expect(flushed).toBe(false);
      lock.release();
      await flush;
      expect(db.prepare('SELECT v FROM t ORDER BY v').pluck().all()).toEqual(['queued first', 'queued while waiting']);
      await expect(Promise.all([first, second])).resolves.toEqual([1, 1]);
    });

    it('starts a new batch for jobs queued after a flush', async () => {
      await queue.write((tx) => tx.run(insert, ['first']));
      await queue.write((tx) => tx.run(insert, ['second']));
      expect(db.prepare('SELECT COUNT(*) AS n FROM t').get()).toEqual({ n: 2 });
    });
  });
});
