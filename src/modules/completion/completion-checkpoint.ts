import { Injectable } from '@nestjs/common';
import { CompletionRepository } from './completion.repository';
import { CompletionScheduler } from './completion-scheduler';
import { LiveRequests } from './live-requests';

/** A request the checkpoint lists as not finished. */
interface Unfinished {
  request_id: string;
  attempts: number;
  queue_key: string;
}

/** The completion module's part of a checkpoint. */
export interface CompletionSlice {
  queued: Unfinished[];
  processing: Unfinished[];
}

/** What a restore found of the requests a checkpoint listed. */
interface RestoreCheck {
  /** Still queued or processing: they run. */
  restored_requests: number;
  /** Of those, the ones the checkpoint listed as processing. */
  retried_after_restart: number;
  already_finished: number;
  /** Listed but not in the database. */
  missing: string[];
}

/** The completion module's part of a checkpoint, and the check of a restored one against the rows. */
@Injectable()
export class CompletionCheckpoint {
  constructor(
    private readonly repo: CompletionRepository,
    private readonly live: LiveRequests,
    private readonly scheduler: CompletionScheduler,
  ) {}

  /** Every accepted request not finished yet; those this stop interrupted count as processing. */
  collect(): CompletionSlice {
    const active = this.repo.active();
    const wasRunning = (row: { request_id: string; status: string }) => row.status === 'processing' || this.live.wasInterrupted(row.request_id);
    const slice = ({ request_id, attempts, queue_key }: Unfinished) => ({ request_id, attempts, queue_key });
    return { queued: active.filter((row) => !wasRunning(row)).map(slice), processing: active.filter(wasRunning).map(slice) };
  }

  /**
   * The rows are the truth, so a restore re-runs nothing by itself: it checks that what the
   * checkpoint lists is still pending (it runs) or already finished (it must not run again).
   */
  restore(slice: Partial<CompletionSlice> | undefined): RestoreCheck {
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
