import { Inject, Injectable } from '@nestjs/common';
import type { Database } from 'better-sqlite3';
import { STORAGE_FULL } from '../../libs/client/src';
import { CLOCK, systemClock, type Clock } from '../common/clock';
import { EventError } from '../events/event-error';
import { SQLITE } from './sqlite.provider';
import { WriteLock } from './write-lock';

export type WriteJob<T> = (db: Database) => T;

/** Writes failing because of the storage itself, since the first of them, until a commit succeeds again. */
export interface StorageFault {
  /** SQLite's code, e.g. SQLITE_FULL, SQLITE_CORRUPT, SQLITE_IOERR_WRITE. */
  sqlite_code: string;
  error: string;
  at: number;
}

/** SQLite codes that say the file or its disk is at fault, not the statement. */
const STORAGE_CODES = /^SQLITE_(FULL|CORRUPT|NOTADB|IOERR|READONLY|CANTOPEN)/;

interface Pending {
  job: WriteJob<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * The one way to write: TypeORM's SQLite driver shares one connection, so concurrent transactions
 * would interleave. Jobs queued in the same turn of the event loop commit together in one
 * transaction (group commit); each runs in its own savepoint, so one failing job fails alone.
 * A job's promise resolves only after its transaction committed. Each commit holds the WriteLock it
 * shares with the event log's writer thread.
 */
@Injectable()
export class WriteQueue {
  /** Reported by system:health as a database fault. */
  storageFault?: StorageFault;
  private pending: Pending[] = [];
  private scheduled = false;
  private readonly commitBatch: (batch: Pending[], outcomes: unknown[]) => void;
  private readonly inSavepoint: (job: WriteJob<unknown>) => unknown;

  constructor(
    @Inject(SQLITE) private readonly db: Database,
    private readonly lock: WriteLock,
    @Inject(CLOCK) private readonly clock: Clock = systemClock,
  ) {
    this.inSavepoint = db.transaction((job: WriteJob<unknown>) => job(db));
    this.commitBatch = db.transaction((batch: Pending[], outcomes: unknown[]) => {
      for (let i = 0; i < batch.length; i++) {
        try {
          outcomes[i] = { ok: true, value: this.inSavepoint(batch[i].job) };
        } catch (error) {
          outcomes[i] = { ok: false, error };
        }
      }
    });
  }

  run<T>(job: WriteJob<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ job, resolve: resolve as (value: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(this.flush);
      }
    });
  }

  /** Commits whatever is queued now; used at shutdown so nothing accepted is left behind. */
  readonly flush = (): void => {
    this.scheduled = false;
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    const outcomes: { ok: boolean; value?: unknown; error?: unknown }[] = new Array(batch.length);
    try {
      this.lock.hold(() => this.commitBatch(batch, outcomes));
    } catch (error) {
      const failure = this.storageFailure(error);
      for (const entry of batch) entry.reject(failure);
      return;
    }
    this.storageFault = undefined;
    for (let i = 0; i < batch.length; i++) {
      const outcome = outcomes[i];
      if (outcome.ok) batch[i].resolve(outcome.value);
      else batch[i].reject(this.storageFailure(outcome.error));
    }
  };

  /** Records a storage fault; a full disk becomes `storage_full`, a sentence the client can act on. */
  private storageFailure(error: unknown): unknown {
    const code = (error as { code?: unknown }).code;
    if (typeof code !== 'string' || !STORAGE_CODES.test(code)) return error;
    this.storageFault = { sqlite_code: code, error: (error as Error).message, at: this.storageFault?.at ?? this.clock.now() / 1000 };
    if (!code.startsWith('SQLITE_FULL')) return error;
    return new EventError(STORAGE_FULL, `The disk holding the database ${this.db.name} is full: nothing was written. Free some space and retry.`);
  }
}
