import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { Logger } from 'pino';
import { DataSource } from 'typeorm';
import { CLOCK, type Clock } from '../common/clock';
import { KSI_CONFIG, type KsiConfig } from '../config/config';
import { DAEMON_LOG } from '../logging/logger';
import { dataSourceOptions, migrate, storageOn } from './open-storage';
import { Storage } from './storage';
import { WriteLock } from './write-lock';

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
      inject: [DataSource, KSI_CONFIG, WriteLock, CLOCK, DAEMON_LOG],
      useFactory: async (dataSource: DataSource, config: KsiConfig, lock: WriteLock, clock: Clock, log: Logger): Promise<Storage> => {
        await migrate(dataSource);
        const storage = storageOn(dataSource, config, lock, clock, log);
        // Before any module looks for work this node left (see PostgresNodeClaim).
        await storage.claimNode(config.node.id);
        return storage;
      },
    },
  ],
  exports: [Storage, WriteLock],
})
export class DatabaseModule {}
