import { Injectable } from '@nestjs/common';
import type { CompletionCheckpointPart, CompletionRestoreCheck } from '../../../libs/client/src';
import { CompletionRepository } from './completion.repository';
import { CompletionScheduler } from './completion-scheduler';
import { LiveRequests } from './live-requests';

/** The completion module's part of a checkpoint, and the check of a restored one against the rows. */
@Injectable()
export class CompletionCheckpoint {
  constructor(
    private readonly repo: CompletionRepository,
    private readonly live: LiveRequests,
    private readonly scheduler: CompletionScheduler,
  ) {}

  /** Every accepted request not finished yet; those this stop interrupted count as processing. */
  collect(): CompletionCheckpointPart {
    const active = this.repo.active();
    const wasRunning = (row: { request_id: string; status: string }) => row.status === 'processing' || this.live.wasInterrupted(row.request_id);
    const slice = ({ request_id, attempts, queue_key }: CompletionCheckpointPart['queued'][number]) => ({ request_id, attempts, queue_key });
    return { queued: active.filter((row) => !wasRunning(row)).map(slice), processing: active.filter(wasRunning).map(slice) };
  }

  /**
   * The rows are the truth, so a restore re-runs nothing by itself: it checks that what the
   * checkpoint lists is still pending (it runs) or already finished (it must not run again).
   */
  restore(slice: Partial<CompletionCheckpointPart> | undefined): CompletionRestoreCheck {
    const listed = [...(slice?.queued ?? []), ...(slice?.processing ?? [])];
    const pending: string[] = [];
    const finished: string[] = [];
    const missing: string[] = [];
    for (const { request_id } of listed) {
      const row = this.repo.byId(request_id);
      if (!row) missing.push(request_id);
      else if (row.status === 'queued' || row.status === 'processing') pending.push(request_id);
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
