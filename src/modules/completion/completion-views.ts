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
import type { CompletionRequest } from './completion-request.entity';
import { CompletionRepository } from './completion.repository';
import { CompletionScheduler } from './completion-scheduler';
import { recordedCost } from './cost.repository';
import { LiveRequests } from './live-requests';
import { UsageWindows } from './usage-windows';

const FINISHED: CompletionRecord['status'][] = ['completed', 'failed', 'cancelled'];

/** What completion:status, retry_status, queue_status and session_status show, read from the rows. */
@Injectable()
export class CompletionViews {
  constructor(
    @Inject(KSI_CONFIG) private readonly config: KsiConfig,
    private readonly repo: CompletionRepository,
    private readonly live: LiveRequests,
    private readonly scheduler: CompletionScheduler,
    private readonly windows: UsageWindows,
  ) {}

  async record(requestId: string): Promise<CompletionRecord> {
    const row = await this.repo.byId(requestId);
    if (!row) throw new EventError('not_found', `Unknown request_id: ${requestId}`);
    return toRecord(row);
  }

  async summary(): Promise<CompletionSummary> {
    const statusCounts = { queued: 0, processing: 0, completed: 0, failed: 0, cancelled: 0, ...(await this.repo.counts()) };
    return {
      status_counts: statusCounts,
      active_completions: statusCounts.queued + statusCounts.processing,
      concurrency: { limit: this.config.maxConcurrent, running: this.live.runningCount },
      service_ready: this.scheduler.ready,
    };
  }

  async retryStatus(): Promise<HandlerResult<typeof completionRetryStatus>> {
    const { maxAttempts, initialDelayMs, maxDelayMs, multiplier } = this.config.retry;
    const retrying = (await this.repo.retrying()).map((row) => ({
      request_id: row.requestId,
      attempts: row.attempts,
      max_attempts: row.maxAttempts,
      next_attempt_at: row.nextAttemptAt / 1000,
      last_error: row.lastError,
    }));
    return {
      policy: { max_attempts: maxAttempts, initial_delay_ms: initialDelayMs, max_delay_ms: maxDelayMs, multiplier, jitter: 'full' },
      retrying,
      count: retrying.length,
    };
  }

  async queueStatus(): Promise<HandlerResult<typeof completionQueueStatus>> {
    const queues = (await this.repo.queues()).map(({ queueKey, queued, processing }) => ({ queue_key: queueKey, queued, processing }));
    return {
      queued: queues.reduce((sum, queue) => sum + queue.queued, 0),
      processing: queues.reduce((sum, queue) => sum + queue.processing, 0),
      limit: this.config.maxConcurrent,
      queues,
      usage_windows: await this.usageWindows(),
    };
  }

  /** The open usage windows, each with how many requests it parks. */
  private async usageWindows(): Promise<HandlerResult<typeof completionQueueStatus>['usage_windows']> {
    const windows = this.windows.current();
    if (windows.length === 0) return [];
    const queued = await this.repo.queuedByAccount();
    return windows.map((window) => ({ ...window, parked: queued.get(window.account) ?? 0 }));
  }

  async sessionStatus(sessionId: string): Promise<HandlerResult<typeof completionSessionStatus>> {
    const { root, sessions } = await this.repo.chain(sessionId);
    return {
      session_id: sessionId,
      root_session_id: root,
      newest_session_id: await this.repo.newestSession(sessionId),
      chain: sessions,
      completions: (await this.repo.ofChain(root)).map((row) => {
        const { request_id, status, session_id, result_session_id, queued_at, completed_at } = toRecord(row);
        return { request_id, status, session_id, result_session_id, queued_at, completed_at };
      }),
    };
  }
}

function toRecord(row: CompletionRequest): CompletionRecord {
  return {
    request_id: row.requestId,
    status: row.status,
    attempts: row.attempts,
    max_attempts: row.maxAttempts,
    session_id: row.sessionId,
    result_session_id: row.resultSessionId,
    queue_key: row.queueKey,
    model: row.model,
    priority: COMPLETION_PRIORITIES[row.priority] ?? 'normal',
    ...(row.result && { result: JSON.parse(row.result) as StandardResponse }),
    ...(row.lastError && row.status !== 'completed' && { error: row.lastError }),
    ...(row.errorCode && { error_code: row.errorCode }),
    ...(row.pid !== null && { pid: row.pid }),
    queued_at: row.queuedAt / 1000,
    ...(row.startedAt !== null && { started_at: row.startedAt / 1000 }),
    ...(row.completedAt !== null && { completed_at: row.completedAt / 1000 }),
    ...(row.status === 'queued' && row.attempts > 0 && { next_attempt_at: row.nextAttemptAt / 1000 }),
    ...(row.profile !== null && { profile: row.profile }),
    ...((row.attempts > 0 || FINISHED.includes(row.status)) && recordedCost(row)),
  };
}
