import { Inject, Injectable } from '@nestjs/common';
import {
  checkpointCollect,
  checkpointRestore,
  completionAsync,
  completionCancel,
  completionQueueStatus,
  completionRetryStatus,
  completionRunningByNode,
  completionAdoptAgent,
  completionEndTurns,
  completionFinishedTurns,
  completionSessionStatus,
  completionStatus,
  completionUsageWindows,
  type CompletionCheckpointPart,
  type FailureCode,
  type HandlerResult,
  type ParamsOut,
  type StandardResponse,
} from '../../../libs/client/src';
import { CLOCK, type Clock } from '../../common/clock';
import type { EventContext } from '../../events/event-context';
import { Handles } from '../../events/handles.decorator';
import { CompletionAdmission } from './completion-admission';
import { CompletionCancellation } from './completion-cancellation';
import { CompletionCheckpoint } from './completion-checkpoint';
import { CompletionViews } from './completion-views';
import { CompletionRepository } from './completion.repository';
import { UsageWindows } from './usage-windows';

@Injectable()
export class CompletionHandlers {
  constructor(
    private readonly admission: CompletionAdmission,
    private readonly cancellation: CompletionCancellation,
    private readonly views: CompletionViews,
    private readonly checkpoint: CompletionCheckpoint,
    private readonly windows: UsageWindows,
    private readonly repo: CompletionRepository,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @Handles(completionAdoptAgent)
  async adoptAgent({ agent_id, request_ids, alive_nodes }: ParamsOut<typeof completionAdoptAgent>): Promise<HandlerResult<typeof completionAdoptAgent>> {
    // Barred before the adoption, so that a queuing the bar waited for is adopted with the rest.
    const unknown = await this.repo.barNeverQueued(agent_id, request_ids, 'Never queued: the node that took this turn of the agent died before queuing it; its message went back to the inbox', this.clock.now());
    const requests = await this.repo.adoptAgent(agent_id, alive_nodes);
    const rows = await Promise.all(request_ids.map((id) => this.repo.byId(id)));
    const ended = rows
      .filter((row) => row !== undefined && !unknown.includes(row.requestId))
      .filter((row) => row?.status === 'completed' || row?.status === 'failed' || row?.status === 'cancelled')
      .map((row) => ({
        request_id: row!.requestId,
        status: row!.status as 'completed' | 'failed' | 'cancelled',
        session_id: row!.sessionId,
        result_session_id: row!.resultSessionId,
        attempts: row!.attempts,
        ...(row!.result !== null && { result: JSON.parse(row!.result) }),
        ...(row!.status === 'failed' && { failure: { message: row!.lastError ?? 'failed', code: (row!.errorCode ?? 'internal_error') as FailureCode } }),
      }));
    return { requests, ended, unknown };
  }

  @Handles(completionEndTurns)
  async endTurns({ agent_id, request_ids }: ParamsOut<typeof completionEndTurns>): Promise<HandlerResult<typeof completionEndTurns>> {
    const barred = await this.repo.barNeverQueued(agent_id, request_ids, 'Never queued: its agent was terminated first', this.clock.now());
    // Requests made for it by others too: they would run without its workspace and rights. One that ended meanwhile stays as it ended.
    const ending = new Set([...request_ids.filter((requestId) => !barred.includes(requestId)), ...(await this.repo.activeOfAgent(agent_id))]);
    for (const id of ending) await this.cancellation.cancel(id).catch(() => undefined);
    return { barred };
  }

  @Handles(completionRunningByNode)
  async runningByNode(): Promise<HandlerResult<typeof completionRunningByNode>> {
    return { running: Object.fromEntries(await this.repo.runningByNode()) };
  }

  @Handles(completionAsync)
  async(data: ParamsOut<typeof completionAsync>, context: EventContext): Promise<HandlerResult<typeof completionAsync>> {
    return this.admission.accept(data, context);
  }

  @Handles(completionStatus)
  status({ request_id }: ParamsOut<typeof completionStatus>): Promise<HandlerResult<typeof completionStatus>> {
    return request_id ? this.views.record(request_id) : this.views.summary();
  }

  @Handles(completionCancel)
  cancel({ request_id }: ParamsOut<typeof completionCancel>): Promise<HandlerResult<typeof completionCancel>> {
    return this.cancellation.cancel(request_id);
  }

  @Handles(completionRetryStatus)
  retryStatus(): Promise<HandlerResult<typeof completionRetryStatus>> {
    return this.views.retryStatus();
  }

  @Handles(completionQueueStatus)
  queueStatus(): Promise<HandlerResult<typeof completionQueueStatus>> {
    return this.views.queueStatus();
  }

  @Handles(completionUsageWindows)
  usageWindows(): HandlerResult<typeof completionUsageWindows> {
    return { usage_windows: this.windows.current() };
  }

  @Handles(completionSessionStatus)
  sessionStatus({ session_id }: ParamsOut<typeof completionSessionStatus>): Promise<HandlerResult<typeof completionSessionStatus>> {
    return this.views.sessionStatus(session_id);
  }

  @Handles(completionFinishedTurns)
  async finishedTurns({ session_id, after, limit }: ParamsOut<typeof completionFinishedTurns>): Promise<HandlerResult<typeof completionFinishedTurns>> {
    const turns = await this.repo.finishedTurns(limit, after && { completedAt: after.completed_at, seq: after.seq }, session_id);
    const last = turns.length === limit ? turns[turns.length - 1] : undefined;
    return {
      turns: turns.map((turn) => ({ root_session_id: turn.rootSessionId, session_id: turn.sessionId, result: JSON.parse(turn.result) as StandardResponse })),
      ...(last && { next: { completed_at: last.completedAt, seq: last.seq } }),
    };
  }

  @Handles(checkpointCollect)
  async collect(): Promise<HandlerResult<typeof checkpointCollect>> {
    return { module: 'completion', ...(await this.checkpoint.collect()) };
  }

  @Handles(checkpointRestore)
  async restore({ data }: ParamsOut<typeof checkpointRestore>): Promise<HandlerResult<typeof checkpointRestore>> {
    return { module: 'completion', ...(await this.checkpoint.restore(data.completion as Partial<CompletionCheckpointPart> | undefined)) };
  }
}
