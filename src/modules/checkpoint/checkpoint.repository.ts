import { Injectable } from '@nestjs/common';
import { sql } from '../../database/sql-statement';
import { Storage } from '../../database/storage';
import type { Checkpoint } from './checkpoint.entity';

const statements = {
  insert: sql('INSERT INTO checkpoints (created_at, reason, data) VALUES (?, ?, ?) RETURNING id'),
  prune: sql('DELETE FROM checkpoints WHERE id NOT IN (SELECT id FROM checkpoints ORDER BY id DESC LIMIT ?)'),
  newest: sql('SELECT id, created_at AS "createdAt", reason, data FROM checkpoints ORDER BY id DESC LIMIT 1'),
  newestUnconsumed: sql('SELECT id, created_at AS "createdAt", reason, data FROM checkpoints WHERE consumed_at IS NULL ORDER BY id DESC LIMIT 1'),
  consume: sql('UPDATE checkpoints SET consumed_at = ?, restore = ? WHERE id = ?'),
};

export type SavedCheckpoint = Pick<Checkpoint, 'id' | 'createdAt' | 'reason' | 'data'>;

/** Every query of `checkpoints`. Times are epoch ms; `data` and `restore` are JSON text. */
@Injectable()
export class CheckpointRepository {
  constructor(private readonly storage: Storage) {}

  /** Saves a checkpoint and deletes all but the newest `kept`; resolves once committed with its id. */
  save(createdAt: number, reason: string, data: string, kept: number): Promise<number> {
    return this.storage.write(async (tx) => {
      const inserted = await tx.get<{ id: number }>(statements.insert, [createdAt, reason, data]);
      await tx.run(statements.prune, [kept]);
      return inserted!.id;
    });
  }

  /** The newest checkpoint; with `onlyUnconsumed`, the newest no restore has used yet. */
  newest(onlyUnconsumed: boolean): Promise<SavedCheckpoint | undefined> {
    return this.storage.get<SavedCheckpoint>(onlyUnconsumed ? statements.newestUnconsumed : statements.newest);
  }

  /** Marks a checkpoint used by a restore, with the restore's summary (JSON). */
  async consume(id: number, at: number, summary: string): Promise<void> {
    await this.storage.write((tx) => tx.run(statements.consume, [at, summary, id]));
  }
}
