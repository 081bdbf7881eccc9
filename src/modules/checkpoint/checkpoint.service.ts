import { Inject, Injectable } from '@nestjs/common';
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
import { EventBus } from '../../events/event-bus';
import { Listens } from '../../events/handles.decorator';
import { ShutdownCoordinator } from '../../lifecycle/shutdown-coordinator';
import { DAEMON_LOG } from '../../logging/logger';
import { CheckpointRepository } from './checkpoint.repository';

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
    private readonly checkpoints: CheckpointRepository,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(DAEMON_LOG) private readonly log: Logger,
    private readonly bus: EventBus,
    private readonly coordinator: ShutdownCoordinator,
  ) {}

  async write(reason: string): Promise<CheckpointSaved> {
    const modules = this.byModule(await this.bus.request(checkpointCollect, {}), checkpointCollect.name);
    const now = this.clock.now();
    const id = await this.checkpoints.save(now, reason, JSON.stringify(modules), KEPT_CHECKPOINTS);
    return { status: 'saved', checkpoint_id: id, timestamp: now / 1000, modules };
  }

  /** Restores the newest checkpoint; at start only one no restore has consumed yet. */
  async restore(onlyUnconsumed: boolean): Promise<RestoreSummary | undefined> {
    const row = await this.checkpoints.newest(onlyUnconsumed);
    if (!row) return undefined;
    const results = this.byModule(await this.bus.request(checkpointRestore, { checkpoint_id: row.id, data: JSON.parse(row.data) }), checkpointRestore.name);
    const summary: RestoreSummary = {
      status: 'restored',
      checkpoint_id: row.id,
      checkpoint_time: row.createdAt / 1000,
      reason: row.reason,
      results,
    };
    await this.checkpoints.consume(row.id, this.clock.now(), JSON.stringify(summary));
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
