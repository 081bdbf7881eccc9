import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { Database } from 'better-sqlite3';
import type { Pool } from 'pg';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { CLOCK, type Clock } from '../common/clock';
import { KSI_CONFIG, type KsiConfig } from '../config/config';
import { sqliteMigrations } from './migrations/sqlite';
import { postgresMigrations } from './migrations/postgres';
import { postgresLocation, postgresTypes } from './postgres-connection';
import { PostgresStorage } from './postgres-storage';
import { sqliteProvider, SQLITE } from './sqlite.provider';
import { SqliteStorage } from './sqlite-storage';
import { Storage } from './storage';
import { WriteLock } from './write-lock';
import { WriteQueue } from './write-queue';

/** Any number will do, as long as every KSI node takes the same one: migrations run one node at a time. */
const MIGRATION_LOCK = 7_151_931;

function dataSourceOptions(config: KsiConfig): DataSourceOptions {
  if (config.databaseUrl) {
    return {
      type: 'postgres',
      url: config.databaseUrl,
      // Wide integers (counts, sums) come back as numbers, as SQLite's do; every KSI value fits in 2^53.
      extra: { types: postgresTypes, max: 10 },
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
    },
    migrations: sqliteMigrations,
    migrationsRun: false,
  };
}

/** Runs the migrations an older KSI's database lacks; on PostgreSQL under an advisory lock, so nodes starting together take turns. */
async function migrate(dataSource: DataSource): Promise<void> {
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

@Global()
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [KSI_CONFIG],
      // No entities at run time: the migrations build the schema, and repositories query it themselves.
      useFactory: (config: KsiConfig) => ({ ...dataSourceOptions(config), autoLoadEntities: false, synchronize: false, retryAttempts: 0 }),
    }),
  ],
  providers: [
    { provide: WriteLock, useFactory: () => new WriteLock() },
    {
      provide: Storage,
      inject: [DataSource, KSI_CONFIG, WriteLock, CLOCK],
      useFactory: async (dataSource: DataSource, config: KsiConfig, lock: WriteLock, clock: Clock): Promise<Storage> => {
        await migrate(dataSource);
        if (config.databaseUrl) return new PostgresStorage((dataSource.driver as unknown as { master: Pool }).master, postgresLocation(config.databaseUrl), clock);
        return new SqliteStorage((dataSource.driver as unknown as { databaseConnection: Database }).databaseConnection, lock, clock);
      },
    },
    sqliteProvider,
    WriteQueue,
  ],
  exports: [Storage, WriteLock, SQLITE, WriteQueue],
})
export class DatabaseModule {}
