import { Inject, Injectable } from '@nestjs/common';
import type { completionCancel, HandlerResult } from '../../../libs/client/src';
import { CLOCK, type Clock } from '../../common/clock';
import { EventError } from '../../events/event-error';
import { KSI_CONFIG, type KsiConfig } from '../../config/config';
import { CompletionLeases } from './completion-leases';
import { CompletionNotifier } from './completion-notifier';
import type { CompletionRequest } from './completion-request.entity';
import { CompletionRepository } from './completion.repository';
import { CompletionScheduler } from './completion-scheduler';
import { LiveRequests } from './live-requests';

/** How often a cancel sent to another node looks whether that node recorded it. */
const OWNER_POLL_MS = 50;

/** completion:cancel: a running attempt is aborted (its process group killed), a waiting request cancelled. */
@Injectable()
export class CompletionCancellation {
  constructor(
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly repo: CompletionRepository,
    private readonly live: LiveRequests,
    private readonly scheduler: CompletionScheduler,
    private readonly notifier: CompletionNotifier,
    private readonly leases: CompletionLeases,
    @Inject(KSI_CONFIG) private readonly config: KsiConfig,
  ) {}

  async cancel(requestId: string): Promise<HandlerResult<typeof completionCancel>> {
    const row = await this.repo.byId(requestId);
    if (!row) throw new EventError('not_found', `Unknown request_id: ${requestId}`);
    // A running attempt ends its row itself, as cancelled.
    if (await this.live.abortRun(requestId, 'cancel')) return { request_id: requestId, status: 'cancelled' };
    if (await this.cancelledByOwner(row)) return { request_id: requestId, status: 'cancelled' };
    if (!(await this.repo.cancelWaiting(requestId, this.clock.now()))) {
      const current = await this.repo.byId(requestId);
      throw new EventError('invalid_state', `Request ${requestId} is already ${current?.status}`, { status: current?.status });
    }
    this.notifier.cancelled(requestId, row.sessionId, row.acceptedBy);
    this.scheduler.queueMoved();
    return { request_id: requestId, status: 'cancelled' };
  }

  /**
   * A request another node runs under a live lease: that node stops the attempt (its process group
   * killed) and records the cancel, so its queue moves on only once nothing runs. True once the row
   * says cancelled; false when the owner did not answer within the TTL (the row is then cancelled
   * here, and the owner stops its attempt when it next renews).
   */
  private async cancelledByOwner(row: CompletionRequest): Promise<boolean> {
    const now = this.clock.now();
    if (row.status !== 'processing' || row.owner === null || row.owner === this.config.node.id || (row.leaseExpiresAt ?? 0) <= now) return false;
    if (!(await this.leases.cancelOn(row.owner, row.requestId))) return false;
    const deadline = now + this.config.node.leaseTtlMs;
    while (this.clock.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, OWNER_POLL_MS));
      const current = await this.repo.byId(row.requestId);
      if (current?.status === 'cancelled') return true;
      if (current?.status !== 'processing') throw new EventError('invalid_state', `Request ${row.requestId} is already ${current?.status}`, { status: current?.status });
    }
    return false;
  }
}
