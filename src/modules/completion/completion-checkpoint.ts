import { Inject, Injectable } from '@nestjs/common';
import type { CompletionCheckpointPart, CompletionRestoreCheck } from '../../../libs/client/src';
import { KSI_CONFIG, type KsiConfig } from '../../config/config';
import { CompletionRepository, type ActiveRequest } from './completion.repository';
import { CompletionScheduler } from './completion-scheduler';
import { LiveRequests } from './live-requests';

/** The completion module's part of a checkpoint, and the check of a restored one against the rows. */
@Injectable()
export class CompletionCheckpoint {
  constructor(
    @Inject(KSI_CONFIG) private readonly config: KsiConfig,
    private readonly repo: CompletionRepository,
    private readonly live: LiveRequests,
    private readonly scheduler: CompletionScheduler,
  ) {}

  /**
   * Every request not finished yet that this node accepted or runs (in a cluster, the others' are in
   * their own checkpoints); those this stop interrupted count as processing.
   */
  async collect(): Promise<CompletionCheckpointPart> {
    const active = await this.repo.active(!this.config.node.clustered);
    const wasRunning = (row: ActiveRequest) => (row.status === 'processing' && row.owner === this.config.node.id) || this.live.wasInterrupted(row.requestId);
    const slice = ({ requestId, attempts, queueKey }: ActiveRequest): CompletionCheckpointPart['queued'][number] => ({ request_id: requestId, attempts, queue_key: queueKey });
    return { queued: active.filter((row) => !wasRunning(row)).map(slice), processing: active.filter(wasRunning).map(slice) };
  }

  /**
   * The rows are the truth, so a restore re-runs nothing by itself: it checks that what the
   * checkpoint lists is still pending (it runs) or already finished (it must not run again).
   */
  async restore(slice: Partial<CompletionCheckpointPart> | undefined): Promise<CompletionRestoreCheck> {
    const listed = [...(slice?.queued ?? []), ...(slice?.processing ?? [])];
    const pending: string[] = [];
    const finished: string[] = [];
    const missing: string[] = [];
    const statuses = await this.repo.statuses(listed.map(({ request_id }) => request_id));
    for (const { request_id } of listed) {
      const status = statuses.get(request_id);
      if (!status) missing.push(request_id);
      else if (status === 'queued' || status === 'processing') pending.push(request_id);
      else finished.push(request_id);
    }
    this.scheduler.wake();
    return {
      restored_requests: pending.length,
      retried_after_restart: (slice?.processing ?? []).filter(({ request_id }) => pending.includes(request_id)).length,
      already_finished: finished.length,
      missing,
    };
  }
}
