import { Injectable } from '@nestjs/common';
import {
  completionAsyncParams,
  completionStatusParams,
  noCompletionParams,
  requestIdParams,
  sessionStatusParams,
  checkpointRestoreParams,
  type CompletionAsyncResult,
  type CompletionRecord,
  type CompletionSummary,
  type QueueStatusResult,
  type RetryStatusResult,
  type SessionStatusResult,
  type z,
} from '../../../libs/client/src';
import type { EventContext } from '../../events/event-context';
import { Handles } from '../../events/handles.decorator';
import { CompletionService } from './completion.service';

@Injectable()
export class CompletionHandlers {
  constructor(private readonly completions: CompletionService) {}

  @Handles('completion:async', {
    summary: 'Queue a Claude turn; progress, result or error are pushed to this connection',
    params: completionAsyncParams,
  })
  async(data: z.output<typeof completionAsyncParams>, context: EventContext): Promise<CompletionAsyncResult> {
    return this.completions.accept(data, context);
  }

  @Handles('completion:status', { summary: 'One request with its result, or a summary of all', params: completionStatusParams })
  status({ request_id }: z.output<typeof completionStatusParams>): CompletionRecord | CompletionSummary {
    return request_id ? this.completions.record(request_id) : this.completions.summary();
  }

  @Handles('completion:cancel', { summary: 'Cancel a queued or running request (its process group is killed)', params: requestIdParams })
  cancel({ request_id }: z.output<typeof requestIdParams>): Promise<{ request_id: string; status: 'cancelled' }> {
    return this.completions.cancel(request_id);
  }

  @Handles('completion:retry_status', { summary: 'The retry policy and the requests waiting to retry', params: noCompletionParams })
  retryStatus(): RetryStatusResult {
    return this.completions.retryStatus();
  }

  @Handles('completion:queue_status', { summary: 'Queued and running requests per queue', params: noCompletionParams })
  queueStatus(): QueueStatusResult {
    return this.completions.queueStatus();
  }

  @Handles('checkpoint:collect', { summary: 'Requests in flight, for the checkpoint', params: noCompletionParams, internal: true })
  collect(): Record<string, unknown> {
    return { module: 'completion', ...this.completions.inFlight() };
  }

  @Handles('checkpoint:restore', { summary: 'Check a checkpoint against the rows', params: checkpointRestoreParams, internal: true })
  restore({ data }: z.output<typeof checkpointRestoreParams>): Record<string, unknown> {
    return { module: 'completion', ...this.completions.restoreFrom(data.completion as Parameters<CompletionService['restoreFrom']>[0]) };
  }

  @Handles('completion:session_status', { summary: "A session's chain, its newest session and its requests", params: sessionStatusParams })
  sessionStatus({ session_id }: z.output<typeof sessionStatusParams>): SessionStatusResult {
    return this.completions.sessionStatus(session_id);
  }
}
