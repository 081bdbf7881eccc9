import { Inject, Injectable } from '@nestjs/common';
import type { Database } from 'better-sqlite3';
import type { Logger } from 'pino';
import {
  checkpointCollect,
  checkpointRestore,
  isErrorResult,
  systemReady,
  type CheckpointSaved,
  type ErrorResult,
  type RestoreSummary,
} from '../../../libs/client/src';
import { CLOCK, type Clock } from '../../common/clock';
import { SQLITE } from '../../database/sqlite.provider';
import { WriteQueue } from '../../database/write-queue';
import { EventBus } from '../../events/event-bus';
import { Listens } from '../../events/handles.decorator';
import { ShutdownCoordinator } from '../../lifecycle/shutdown-coordinator';
import { DAEMON_LOG } from '../../logging/logger';

/** Checkpoints beyond this many (newest first) are deleted. */
const KEPT_CHECKPOINTS = 10;

/** Answers keyed by their module, without the key: `{module: 'agent', agents}` becomes `agent: {agents}`. */
type PartsOf<S extends { module: string }> = { [M in S['module']]?: Omit<Extract<S, { module: M }>, 'module'> };

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
    const modules = this.byModule(await this.bus.request(checkpointCollect, {}), checkpointCollect.name);
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
    const results = this.byModule(await this.bus.request(checkpointRestore, { checkpoint_id: row.id, data: JSON.parse(row.data) }), checkpointRestore.name);
    const summary: RestoreSummary = {
      status: 'restored',
      checkpoint_id: row.id,
      checkpoint_time: row.created_at / 1000,
      reason: row.reason,
      results,
    };
    await this.writes.run((db) => db.prepare('UPDATE checkpoints SET consumed_at = ?, restore = ? WHERE id = ?').run(this.clock.now(), JSON.stringify(summary), row.id));
    return summary;
  }

  /** Each module's slice keyed by its name; a module that failed has no slice, and the failure is logged. */
  private byModule<S extends { module: string }>(answers: (S | ErrorResult)[], event: string): PartsOf<S> {
    const parts: Record<string, unknown> = {};
    for (const answer of answers) {
      if (isErrorResult(answer)) this.log.error({ event, error: answer.error, code: answer.code }, 'a module failed its part of the checkpoint');
      else {
        const { module, ...data } = answer;
        parts[module] = data;
      }
    }
    return parts as PartsOf<S>;
  }

  /** Once every service runs: the checkpoint the last stop wrote, if no start has used it yet. */
  @Listens(systemReady)
  async restoreAtStart(): Promise<void> {
    const summary = await this.restore(true);
    this.coordinator.recordRestore(summary ?? null);
    if (summary) this.log.info(summary, 'checkpoint restored');
  }
}
