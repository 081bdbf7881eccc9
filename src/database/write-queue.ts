import { Inject, Injectable } from '@nestjs/common';
import type { Database } from 'better-sqlite3';
import { SQLITE } from './sqlite.provider';
import { Storage, type StorageFault } from './storage';

export type WriteJob<T> = (db: Database) => T;

/** Synchronous SQLite jobs on Storage's write queue, for the code not yet moved into repositories. */
@Injectable()
export class WriteQueue {
  constructor(
    @Inject(SQLITE) private readonly db: Database,
    private readonly storage: Storage,
  ) {}

  get storageFault(): StorageFault | undefined {
    return this.storage.storageFault;
  }

  run<T>(job: WriteJob<T>): Promise<T> {
    return this.storage.write(async () => job(this.db));
  }

  flush(): Promise<void> {
    return this.storage.flush();
  }
}
