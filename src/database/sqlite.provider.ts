import type { Provider } from '@nestjs/common';
import type { Database } from 'better-sqlite3';
import { DataSource } from 'typeorm';

/**
 * The better-sqlite3 handle under TypeORM's DataSource. Hot paths use prepared statements on it
 * (TypeORM's per-call overhead is ~10x the query itself); the schema still comes from the entities
 * and their migrations, and every write still goes through the WriteQueue.
 */
export const SQLITE = Symbol('SQLITE');

export const sqliteProvider: Provider = {
  provide: SQLITE,
  inject: [DataSource],
  useFactory: (dataSource: DataSource): Database => (dataSource.driver as unknown as { databaseConnection: Database }).databaseConnection,
};
