import { Inject, Injectable } from '@nestjs/common';
import { KSI_CONFIG, type KsiConfig } from '../../config/config';
import { sql } from '../../database/sql-statement';
import { Storage } from '../../database/storage';
import type { Checkpoint } from './checkpoint.entity';

/** This node's checkpoints, and those written before clusters; every one with @all (SQLite: the daemon is the only node, whatever its name). */
const MINE = '(@all = 1 OR node_id = @me OR node_id IS NULL)';

const statements = {
  insert: sql('INSERT INTO checkpoints (created_at, reason, data, node_id) VALUES (?, ?, ?, ?) RETURNING id'),
  prune: sql(`DELETE FROM checkpoints WHERE ${MINE} AND id NOT IN (SELECT id FROM checkpoints WHERE ${MINE} ORDER BY id DESC LIMIT @kept)`),
  newest: sql(`SELECT id, created_at AS "createdAt", reason, data FROM checkpoints WHERE ${MINE} ORDER BY id DESC LIMIT 1`),
  newestUnconsumed: sql(`SELECT id, created_at AS "createdAt", reason, data FROM checkpoints WHERE ${MINE} AND consumed_at IS NULL ORDER BY id DESC LIMIT 1`),
  consume: sql('UPDATE checkpoints SET consumed_at = ?, restore = ? WHERE id = ?'),
};

export type SavedCheckpoint = Pick<Checkpoint, 'id' | 'createdAt' | 'reason' | 'data'>;

/** Every query of `checkpoints`. Times are epoch ms; `data` and `restore` are JSON text. */
@Injectable()
export class CheckpointRepository {
  private readonly me: string;
  private readonly all: number;

  constructor(
    private readonly storage: Storage,
    @Inject(KSI_CONFIG) config: KsiConfig,
  ) {
    this.me = config.node.id;
    this.all = config.node.clustered ? 0 : 1;
  }

  /** Saves a checkpoint and deletes all but the newest `kept`; resolves once committed with its id. */
  save(createdAt: number, reason: string, data: string, kept: number): Promise<number> {
    return this.storage.write(async (tx) => {
      const inserted = await tx.get<{ id: number }>(statements.insert, [createdAt, reason, data, this.me]);
      await tx.run(statements.prune, { me: this.me, all: this.all, kept });
      return inserted!.id;
    });
  }

  /** The newest checkpoint; with `onlyUnconsumed`, the newest no restore has used yet. */
  newest(onlyUnconsumed: boolean): Promise<SavedCheckpoint | undefined> {
    return this.storage.get<SavedCheckpoint>(onlyUnconsumed ? statements.newestUnconsumed : statements.newest, { me: this.me, all: this.all });
  }

  /** Marks a checkpoint used by a restore, with the restore's summary (JSON). */
  async consume(id: number, at: number, summary: string): Promise<void> {
    await this.storage.writeStatement(statements.consume, [at, summary, id]);
  }
}
