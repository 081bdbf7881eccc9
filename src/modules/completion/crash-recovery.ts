import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import { CLOCK, type Clock } from '../../common/clock';
import { KSI_CONFIG, type KsiConfig } from '../../config/config';
import { DAEMON_LOG } from '../../logging/logger';
import { killCliProcessesOf } from './cli-processes';
import { CompletionRepository } from './completion.repository';

/** What a crashed daemon left behind: Claude CLI processes still running, and rows still `processing`. */
@Injectable()
export class CrashRecovery {
  constructor(
    @Inject(KSI_CONFIG) private readonly config: KsiConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(DAEMON_LOG) private readonly log: Logger,
    private readonly repo: CompletionRepository,
  ) {}

  /**
   * Requests a crashed daemon left `processing` run again, once every CLI process it started is
   * killed: found by the marker in their environment, so none runs beside its retry. On a shared
   * PostgreSQL database, only this node's: the others' run under their own leases.
   */
  async requeueInterrupted(): Promise<void> {
    const orphans = killCliProcessesOf(this.config.varDir);
    if (orphans.length > 0) this.log.warn({ pids: orphans }, 'killed Claude CLI processes left by a previous daemon');
    const requeued = await this.repo.requeueInterrupted(this.clock.now(), 'Interrupted by a daemon restart', 'daemon_restart', !this.config.node.clustered);
    for (const requestId of requeued) this.log.warn({ request_id: requestId }, 'requeued a completion interrupted by a daemon restart');
  }
}
