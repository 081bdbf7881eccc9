import { Injectable } from '@nestjs/common';
import type { EventContext } from './event-context';

/**
 * Says why a request may not run (a sentence), or undefined when it may. `data` is the request's
 * data as sent (not yet validated); absent when only the event is asked about (discovery).
 */
export type RequestGuard = (event: string, context: EventContext, data?: unknown) => string | undefined;

/**
 * Checks for requests from connections that identified as an agent. Feature modules (permissions)
 * register here; the dispatcher asks before any handler runs and answers `permission_denied`.
 */
@Injectable()
export class RequestGuards {
  private readonly guards: RequestGuard[] = [];

  register(guard: RequestGuard): void {
    this.guards.push(guard);
  }

  deny(event: string, context: EventContext, data?: unknown): string | undefined {
    for (const guard of this.guards) {
      const reason = guard(event, context, data);
      if (reason) return reason;
    }
    return undefined;
  }
}
