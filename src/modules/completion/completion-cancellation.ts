import { Inject, Injectable } from '@nestjs/common';
import type { completionCancel, HandlerResult } from '../../../libs/client/src';
import { CLOCK, type Clock } from '../../common/clock';
import { EventError } from '../../events/event-error';
import { CompletionNotifier } from './completion-notifier';
import { CompletionRepository } from './completion.repository';
import { CompletionScheduler } from './completion-scheduler';
import { LiveRequests } from './live-requests';

/** completion:cancel: a running attempt is aborted (its process group killed), a waiting request cancelled. */
@Injectable()
export class CompletionCancellation {
  constructor(
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly repo: CompletionRepository,
    private readonly live: LiveRequests,
    private readonly scheduler: CompletionScheduler,
    private readonly notifier: CompletionNotifier,
  ) {}

  async cancel(requestId: string): Promise<HandlerResult<typeof completionCancel>> {
    const row = await this.repo.byId(requestId);
    if (!row) throw new EventError('not_found', `Unknown request_id: ${requestId}`);
    // A running attempt ends its row itself, as cancelled.
    if (await this.live.abortRun(requestId, 'cancel')) return { request_id: requestId, status: 'cancelled' };
    if (!(await this.repo.cancelWaiting(requestId, this.clock.now()))) {
      const current = await this.repo.byId(requestId);
      throw new EventError('invalid_state', `Request ${requestId} is already ${current?.status}`, { status: current?.status });
    }
    this.notifier.cancelled(requestId, row.sessionId, row.acceptedBy);
    this.scheduler.queueMoved();
    return { request_id: requestId, status: 'cancelled' };
  }
}
