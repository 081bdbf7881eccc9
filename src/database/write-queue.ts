import { Inject, Injectable } from '@nestjs/common';
import type { Database } from 'better-sqlite3';
import { SQLITE } from './sqlite.provider';
import { WriteLock } from './write-lock';

export type WriteJob<T> = (db: Database) => T;

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
  private pending: Pending[] = [];
  private scheduled = false;
  private readonly commitBatch: (batch: Pending[], outcomes: unknown[]) => void;
  private readonly inSavepoint: (job: WriteJob<unknown>) => unknown;

  constructor(
    @Inject(SQLITE) db: Database,
    private readonly lock: WriteLock,
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
      for (const entry of batch) entry.reject(error);
      return;
    }
    for (let i = 0; i < batch.length; i++) {
      const outcome = outcomes[i];
      if (outcome.ok) batch[i].resolve(outcome.value);
      else batch[i].reject(outcome.error);
    }
  };
}
