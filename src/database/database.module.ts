import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { Database } from 'better-sqlite3';
import { KSI_CONFIG, type KsiConfig } from '../config/config';
import { migrations } from './migrations';
import { sqliteProvider, SQLITE } from './sqlite.provider';
import { WriteLock } from './write-lock';
import { WriteQueue } from './write-queue';

@Global()
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [KSI_CONFIG],
      useFactory: (config: KsiConfig) => ({
        type: 'better-sqlite3' as const,
        database: config.dbPath,
        enableWAL: true,
        timeout: 5_000,
        // WAL + NORMAL: a commit survives a crash of the daemon; power loss may lose the last commits.
        prepareDatabase: (db: Database) => {
          db.pragma('synchronous = NORMAL');
          db.pragma('temp_store = MEMORY');
        },
        autoLoadEntities: true,
        synchronize: false,
        migrationsRun: true,
        migrations,
        retryAttempts: 0,
      }),
    }),
  ],
  providers: [sqliteProvider, WriteQueue, { provide: WriteLock, useFactory: () => new WriteLock() }],
  exports: [SQLITE, WriteQueue, WriteLock],
})
export class DatabaseModule {}
