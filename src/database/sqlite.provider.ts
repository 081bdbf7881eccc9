import type { Provider } from '@nestjs/common';
import type { Database } from 'better-sqlite3';
import { DataSource } from 'typeorm';
import { Storage } from './storage';

/** The better-sqlite3 handle, for the code not yet moved into repositories over Storage. */
export const SQLITE = Symbol('SQLITE');

export const sqliteProvider: Provider = {
  provide: SQLITE,
  // Storage first: it runs the migrations.
  inject: [DataSource, Storage],
  useFactory: (dataSource: DataSource): Database => (dataSource.driver as unknown as { databaseConnection: Database }).databaseConnection,
};
