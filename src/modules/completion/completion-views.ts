import { Inject, Injectable } from '@nestjs/common';
import {
  COMPLETION_PRIORITIES,
  type CompletionRecord,
  type CompletionSummary,
  type completionQueueStatus,
  type completionRetryStatus,
  type completionSessionStatus,
  type HandlerResult,
  type StandardResponse,
} from '../../../libs/client/src';
import { KSI_CONFIG, type KsiConfig } from '../../config/config';
import { EventError } from '../../events/event-error';
import { CompletionRepository, type RequestRow } from './completion.repository';
import { CompletionScheduler } from './completion-scheduler';
import { recordedCost } from './cost.repository';
import { LiveRequests } from './live-requests';

const FINISHED: CompletionRecord['status'][] = ['completed', 'failed', 'cancelled'];

/** What completion:status, retry_status, queue_status and session_status show, read from the rows. */
@Injectable()
export class CompletionViews {
  constructor(
    @Inject(KSI_CONFIG) private readonly config: KsiConfig,
    private readonly repo: CompletionRepository,
    private readonly live: LiveRequests,
    private readonly scheduler: CompletionScheduler,
  ) {}

  record(requestId: string): CompletionRecord {
    const row = this.repo.byId(requestId);
    if (!row) throw new EventError('not_found', `Unknown request_id: ${requestId}`);
    return toRecord(row);
  }

  summary(): CompletionSummary {
    const statusCounts = { queued: 0, processing: 0, completed: 0, failed: 0, cancelled: 0, ...this.repo.counts() };
    return {
      status_counts: statusCounts,
      active_completions: statusCounts.queued + statusCounts.processing,
      concurrency: { limit: this.config.maxConcurrent, running: this.live.runningCount },
      service_ready: this.scheduler.ready,
    };
  }

  retryStatus(): HandlerResult<typeof completionRetryStatus> {
    const { maxAttempts, initialDelayMs, maxDelayMs, multiplier } = this.config.retry;
    const retrying = this.repo.retrying().map((row) => ({
      request_id: row.request_id,
      attempts: row.attempts,
      max_attempts: row.max_attempts,
      next_attempt_at: row.next_attempt_at / 1000,
      last_error: row.last_error,
    }));
    return {
      policy: { max_attempts: maxAttempts, initial_delay_ms: initialDelayMs, max_delay_ms: maxDelayMs, multiplier, jitter: 'full' },
      retrying,
      count: retrying.length,
    };
  }

  queueStatus(): HandlerResult<typeof completionQueueStatus> {
    const queues = this.repo.queues();
    return {
      queued: queues.reduce((sum, queue) => sum + queue.queued, 0),
      processing: queues.reduce((sum, queue) => sum + queue.processing, 0),
      limit: this.config.maxConcurrent,
      queues,
    };
  }

  sessionStatus(sessionId: string): HandlerResult<typeof completionSessionStatus> {
    const { root, sessions } = this.repo.chain(sessionId);
    return {
      session_id: sessionId,
      root_session_id: root,
      newest_session_id: this.repo.newestSession(sessionId),
      chain: sessions,
      completions: this.repo.bySessions(sessions).map((row) => {
        const { request_id, status, session_id, result_session_id, queued_at, completed_at } = toRecord(row);
        return { request_id, status, session_id, result_session_id, queued_at, completed_at };
      }),
    };
  }
}

function toRecord(row: RequestRow): CompletionRecord {
  return {
    request_id: row.request_id,
    status: row.status,
    attempts: row.attempts,
    max_attempts: row.max_attempts,
    session_id: row.session_id,
    result_session_id: row.result_session_id,
    queue_key: row.queue_key,
    model: row.model,
    priority: COMPLETION_PRIORITIES[row.priority] ?? 'normal',
    ...(row.result && { result: JSON.parse(row.result) as StandardResponse }),
    ...(row.last_error && row.status !== 'completed' && { error: row.last_error }),
    ...(row.error_code && { error_code: row.error_code }),
    ...(row.pid !== null && { pid: row.pid }),
    queued_at: row.queued_at / 1000,
    ...(row.started_at !== null && { started_at: row.started_at / 1000 }),
    ...(row.completed_at !== null && { completed_at: row.completed_at / 1000 }),
    ...(row.status === 'queued' && row.attempts > 0 && { next_attempt_at: row.next_attempt_at / 1000 }),
    ...(row.profile !== null && { profile: row.profile }),
    ...((row.attempts > 0 || FINISHED.includes(row.status)) && recordedCost(row)),
  };
}
