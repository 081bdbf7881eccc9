import type { Database } from 'better-sqlite3';
import type { Pool } from 'pg';
import { DataSource, type DataSourceOptions } from 'typeorm';
import type { Logger } from 'pino';
import { systemClock, type Clock } from '../common/clock';
import type { KsiConfig } from '../config/config';
import { postgresMigrations } from './migrations/postgres';
import { sqliteMigrations } from './migrations/sqlite';
import { postgresLocation, postgresTypes } from './postgres-connection';
import type { PostgresStorage } from './postgres-storage';
import { SqliteStorage } from './sqlite-storage';
import type { Storage } from './storage';
import { WriteLock } from './write-lock';

/** Any number will do, as long as every KSI node takes the same one: migrations run one node at a time. */
const MIGRATION_LOCK = 7_151_931;

/**
 * The WAL is copied back into the file by whichever connection's commit finds it longer than its
 * threshold. With the event log on, its writer thread does this at 1,000 pages, after its own commits
 * (event-log.writer.ts), so off the daemon's thread; the daemon's connection does it only if the
 * writer stopped.
 */
const CHECKPOINT_PAGES = 1_000;
const CHECKPOINT_PAGES_BEHIND_THE_EVENT_LOG = 4_000;

/** TypeORM's connection to the configured database. No entities: the migrations build the schema, and repositories query it themselves. */
export function dataSourceOptions(config: KsiConfig): DataSourceOptions {
  if (config.databaseUrl) {
    return {
      type: 'postgres',
      url: config.databaseUrl,
      // Wide integers (counts, sums) come back as numbers, as SQLite's do; every KSI value fits in 2^53.
      extra: { types: postgresTypes(), max: 10 },
      connectTimeoutMS: 5_000,
      migrations: postgresMigrations,
      migrationsRun: false,
    };
  }
  return {
    type: 'better-sqlite3',
    database: config.dbPath,
    enableWAL: true,
    timeout: 5_000,
    // WAL + NORMAL: a commit survives a crash of the daemon; power loss may lose the last commits.
    prepareDatabase: (db: Database) => {
      db.pragma('synchronous = NORMAL');
      db.pragma('temp_store = MEMORY');
      db.pragma(`wal_autocheckpoint = ${config.eventLog ? CHECKPOINT_PAGES_BEHIND_THE_EVENT_LOG : CHECKPOINT_PAGES}`);
    },
    migrations: sqliteMigrations,
    migrationsRun: false,
  };
}

/** Runs the migrations an older KSI's database lacks; on PostgreSQL under an advisory lock, so nodes starting together take turns. */
export async function migrate(dataSource: DataSource): Promise<void> {
  if (dataSource.options.type !== 'postgres') {
    await dataSource.runMigrations({ transaction: 'each' });
    return;
  }
  const runner = dataSource.createQueryRunner();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    await dataSource.runMigrations({ transaction: 'each' });
  } finally {
    await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
    await runner.release();
  }
}

/** The Storage over an initialised DataSource's connection (SQLite) or pool (PostgreSQL). */
export function storageOn(dataSource: DataSource, config: KsiConfig, lock: WriteLock, clock: Clock, log?: Pick<Logger, 'warn' | 'info'>): Storage {
  if (config.databaseUrl) {
    // Loaded only here: a daemon on SQLite never loads pg.
    const { PostgresStorage: Postgres } = require('./postgres-storage') as { PostgresStorage: typeof PostgresStorage };
    return new Postgres((dataSource.driver as unknown as { master: Pool }).master, postgresLocation(config.databaseUrl), clock, log, config.node.leaseTtlMs);
  }
  return new SqliteStorage((dataSource.driver as unknown as { databaseConnection: Database }).databaseConnection, lock, clock);
}

/** The configured database, migrated, outside the daemon (the CLI's `ksi db`); `close` ends the connection. */
export async function openStorage(config: KsiConfig): Promise<{ storage: Storage; close: () => Promise<void> }> {
  const dataSource = new DataSource(dataSourceOptions(config));
  await dataSource.initialize();
  try {
    await migrate(dataSource);
  } catch (error) {
    await dataSource.destroy();
    throw error;
  }
  const storage = storageOn(dataSource, config, new WriteLock(), systemClock);
  return {
    storage,
    close: async () => {
      await storage.flush();
      await storage.onApplicationShutdown();
      await dataSource.destroy();
    },
  };
}
