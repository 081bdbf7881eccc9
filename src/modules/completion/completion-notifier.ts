import { Injectable } from '@nestjs/common';
import { completionCancelled, completionError, completionFailed, type PayloadOf, type PushDefinition, type z } from '../../../libs/client/src';
import { EventBus } from '../../events/event-bus';
import { LiveRequests } from './live-requests';

/** What a request's progress and end tell: pushed to the connection that sent it, and raised inside the daemon (monitors, agents). */
@Injectable()
export class CompletionNotifier {
  constructor(
    private readonly live: LiveRequests,
    private readonly bus: EventBus,
  ) {}

  /** `final`: the request's last push; nothing more goes to its connection. */
  notify<D extends PushDefinition<string, z.ZodType<{ request_id: string }>>>(definition: D, payload: PayloadOf<D>, final = false): void {
    const requestId = payload.request_id;
    const connection = this.live.requesterOf(requestId);
    if (connection && !connection.push(definition, payload)) this.live.dropRequester(requestId);
    if (final) this.live.finished(requestId);
    this.bus.emit(definition, payload);
  }

  cancelled(requestId: string, sessionId: string | null): void {
    this.notify(completionCancelled, { request_id: requestId, session_id: sessionId }, true);
  }

  /** Failed for good: the requester hears completion:error, the daemon's listeners completion:failed too. */
  failed(failure: PayloadOf<typeof completionError>): void {
    this.notify(completionError, failure, true);
    this.bus.emit(completionFailed, failure);
  }
}
