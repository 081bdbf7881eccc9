import { Injectable } from '@nestjs/common';
import type { EventContext } from './event-context';

/**
 * Says why a request may not run (a sentence), or undefined when it may. `data` is the request's
 * data as sent (not yet validated); absent when only the event is asked about (discovery).
 */
export type RequestGuard = (event: string, context: EventContext, data?: unknown) => string | undefined;

/**
 * Says why agent `sender` may not send `recipient` a message (a sentence), or undefined when it may.
 * `kept`: the message is kept for the recipient (an agent, or an id nothing is connected as), so it
 * would become the turn of whichever agent holds that id when it is delivered.
 */
export type MessagePolicy = (sender: string, recipient: string, kept: boolean) => string | undefined;

/**
 * Checks for requests from connections that identified as an agent. Feature modules (permissions)
 * register here; the dispatcher asks before any handler runs and answers `permission_denied`.
 * Handlers whose recipients are known only once they run (a broadcast, a task given to whichever
 * agent is idle) ask the message policy themselves.
 */
@Injectable()
export class RequestGuards {
  private readonly guards: RequestGuard[] = [];
  private readonly messagePolicies: MessagePolicy[] = [];

  register(guard: RequestGuard): void {
    this.guards.push(guard);
  }

  registerMessagePolicy(policy: MessagePolicy): void {
    this.messagePolicies.push(policy);
  }

  /**
   * Why the agent the request comes from may not message `recipient`; undefined when it may, or when
   * no agent asks (the operator, or the daemon itself: an orchestration routes turns as its pattern says).
   */
  messageDenial(context: EventContext, recipient: string, kept: boolean): string | undefined {
    if (context.agentId === undefined) return undefined;
    for (const policy of this.messagePolicies) {
      const reason = policy(context.agentId, recipient, kept);
      if (reason) return reason;
    }
    return undefined;
  }

  deny(event: string, context: EventContext, data?: unknown): string | undefined {
    for (const guard of this.guards) {
      const reason = guard(event, context, data);
      if (reason) return reason;
    }
    return undefined;
  }
}
