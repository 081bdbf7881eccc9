import { Inject, Injectable } from '@nestjs/common';
import { KSI_CONFIG, type KsiConfig } from '../config/config';
import { sql } from '../database/sql-statement';
import { Storage } from '../database/storage';
import type { DaemonRun } from './daemon-run.entity';

export type PastRun = Pick<DaemonRun, 'pid' | 'startedAt' | 'endedAt' | 'shutdown'>;

const statements = {
  last: sql('SELECT pid, started_at AS "startedAt", ended_at AS "endedAt", shutdown FROM daemon_runs WHERE ? = 1 OR node_id = ? OR node_id IS NULL ORDER BY id DESC LIMIT 1'),
  insert: sql('INSERT INTO daemon_runs (pid, started_at, node_id) VALUES (?, ?, ?) RETURNING id'),
  end: sql('UPDATE daemon_runs SET ended_at = ?, shutdown = ? WHERE id = ?'),
};

/** Every query of `daemon_runs`: one row per run of the daemon (of each node sharing the database). Times are epoch ms. */
@Injectable()
export class DaemonRunRepository {
  private readonly me: string;
  /** On SQLite the daemon is the only node, whatever its name: its previous run is the last one. */
  private readonly all: number;

  constructor(
    private readonly storage: Storage,
    @Inject(KSI_CONFIG) config: KsiConfig,
  ) {
    this.me = config.node.id;
    this.all = config.node.clustered ? 0 : 1;
  }

  /** Records this run; resolves once committed with its id and the run before it, if any. */
  start(pid: number, now: number): Promise<{ id: number; previous: PastRun | undefined }> {
    return this.storage.write(async (tx) => {
      const previous = await tx.get<PastRun>(statements.last, [this.all, this.me]);
      const { id } = (await tx.get<Pick<DaemonRun, 'id'>>(statements.insert, [pid, now, this.me]))!;
      return { id, previous };
    });
  }

  /** `shutdown` is JSON: how the run ended. Resolves once committed. */
  async end(id: number, now: number, shutdown: string): Promise<void> {
    await this.storage.writeStatement(statements.end, [now, shutdown, id]);
  }
}
