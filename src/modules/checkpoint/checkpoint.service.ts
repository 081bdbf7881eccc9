import { Inject, Injectable } from '@nestjs/common';
import type { Database } from 'better-sqlite3';
import type { Logger } from 'pino';
import { systemReady, type CheckpointSaved, type RestoreSummary } from '../../../libs/client/src';
import { CLOCK, type Clock } from '../../common/clock';
import { SQLITE } from '../../database/sqlite.provider';
import { WriteQueue } from '../../database/write-queue';
import { EventBus } from '../../events/event-bus';
import { Listens } from '../../events/handles.decorator';
import { ShutdownCoordinator } from '../../lifecycle/shutdown-coordinator';
import { DAEMON_LOG } from '../../logging/logger';

/** Checkpoints beyond this many (newest first) are deleted. */
const KEPT_CHECKPOINTS = 10;

interface Slice {
  module: string;
  [field: string]: unknown;
}

/**
 * Writes what every module has in flight (their `checkpoint:collect` slices) on every stop and on
 * dev:checkpoint, and hands the newest unconsumed one back to them (`checkpoint:restore`) once at start.
 */
@Injectable()
export class CheckpointService {
  constructor(
    @Inject(SQLITE) private readonly db: Database,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(DAEMON_LOG) private readonly log: Logger,
    private readonly writes: WriteQueue,
    private readonly bus: EventBus,
    private readonly coordinator: ShutdownCoordinator,
  ) {}

  async write(reason: string): Promise<CheckpointSaved> {
    const slices = (await this.bus.request('checkpoint:collect', {})) as Slice[];
    const modules = Object.fromEntries(slices.map(({ module, ...data }) => [module, data]));
    const now = this.clock.now();
    const id = await this.writes.run((db) => {
      const inserted = db.prepare('INSERT INTO checkpoints (created_at, reason, data) VALUES (?, ?, ?)').run(now, reason, JSON.stringify(modules));
      db.prepare('DELETE FROM checkpoints WHERE id NOT IN (SELECT id FROM checkpoints ORDER BY id DESC LIMIT ?)').run(KEPT_CHECKPOINTS);
      return Number(inserted.lastInsertRowid);
    });
    return { status: 'saved', checkpoint_id: id, timestamp: now / 1000, modules };
  }

  /** Restores the newest checkpoint; at start only one no restore has consumed yet. */
  async restore(onlyUnconsumed: boolean): Promise<RestoreSummary | undefined> {
    const row = this.db
      .prepare(`SELECT id, created_at, reason, data FROM checkpoints ${onlyUnconsumed ? 'WHERE consumed_at IS NULL' : ''} ORDER BY id DESC LIMIT 1`)
      .get() as { id: number; created_at: number; reason: string; data: string } | undefined;
    if (!row) return undefined;
    const slices = (await this.bus.request('checkpoint:restore', { checkpoint_id: row.id, data: JSON.parse(row.data) })) as Slice[];
    const summary: RestoreSummary = {
      status: 'restored',
      checkpoint_id: row.id,
      checkpoint_time: row.created_at / 1000,
      reason: row.reason,
      results: Object.fromEntries(slices.map(({ module, ...result }) => [module, result])),
    };
    await this.writes.run((db) => db.prepare('UPDATE checkpoints SET consumed_at = ?, restore = ? WHERE id = ?').run(this.clock.now(), JSON.stringify(summary), row.id));
    return summary;
  }

  /** Once every service runs: the checkpoint the last stop wrote, if no start has used it yet. */
  @Listens(systemReady)
  async restoreAtStart(): Promise<void> {
    const summary = await this.restore(true);
    this.coordinator.recordRestore(summary ?? null);
    if (summary) this.log.info(summary, 'checkpoint restored');
  }
}
