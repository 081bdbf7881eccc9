import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { CorrelationId, ParamIssue, RequestErrorCode } from '../../libs/client/src';
import type { ClientConnection, EventContext } from './event-context';
import { errorResult } from './event-error';
import { EventCatalogue, type CatalogueEntry } from './event-catalogue';
import { correlationStorage, newEventId } from './correlation';
import { EventTap } from './event-tap';
import { RequestGuards } from './request-guard';
import { describeIssues, validate } from './handles.decorator';
import { holdsNonFiniteNumber, MAX_DATA_DEPTH, nestsDeeperThan } from './json-limits';

interface RequestError {
  error: string;
  code: RequestErrorCode;
  details?: ParamIssue[];
  suggestions?: string[];
}

/** Event names are short: a longer one is refused without searching for similar names. */
export const MAX_EVENT_NAME_CHARS = 128;
/** Correlation ids are recorded with every event they cause: a longer one is refused. */
export const MAX_CORRELATION_ID_CHARS = 256;

/** Events still served while the daemon drains for shutdown. */
const SERVED_WHILE_DRAINING = new Set(['shutdown:acknowledge', 'system:health']);

/**
 * Turns one request line into exactly one reply line (CONTRACT §2): parse, route, validate, run the
 * handlers, apply the REST rule. It never throws; every failure becomes a reply.
 */
@Injectable()
export class Dispatcher {
  /** Set when shutdown begins: new requests get `shutting_down`. */
  draining = false;

  constructor(
    private readonly catalogue: EventCatalogue,
    private readonly tap: EventTap,
    private readonly guards: RequestGuards,
  ) {}

  handleLine(line: string, connection: ClientConnection): string | Promise<string> {
    let request: unknown;
    try {
      request = JSON.parse(line);
    } catch (error) {
      return errorLine(undefined, undefined, { code: 'invalid_json', error: `Line is not valid JSON: ${(error as Error).message}` });
    }
    if (typeof request !== 'object' || request === null || Array.isArray(request)) {
      return errorLine(undefined, undefined, { code: 'invalid_request', error: `A request must be a JSON object like {"event": "system:health", "data": {}}, got ${describe(request)}` });
    }
    const { event, data = {}, correlation_id } = request as { event?: unknown; data?: unknown; correlation_id?: unknown };
    const hasId = correlation_id !== undefined && correlation_id !== null;
    if (hasId && typeof correlation_id === 'object') {
      return errorLine(typeof event === 'string' ? event : undefined, undefined, { code: 'invalid_request', error: 'correlation_id must be a string, number or boolean' });
    }
    if (typeof correlation_id === 'string' && correlation_id.length > MAX_CORRELATION_ID_CHARS) {
      return errorLine(undefined, undefined, { code: 'invalid_request', error: `correlation_id is ${correlation_id.length} characters long; the limit is ${MAX_CORRELATION_ID_CHARS}` });
    }
    const correlationId = hasId ? (correlation_id as CorrelationId) : randomUUID();
    if (typeof event !== 'string' || event.length === 0) {
      return errorLine(undefined, correlationId, { code: 'invalid_request', error: 'The request has no "event" string; send {"event": "<namespace>:<name>", "data": {...}}' });
    }
    if (event.length > MAX_EVENT_NAME_CHARS) {
      return errorLine(undefined, correlationId, { code: 'unknown_event', error: `The event name is ${event.length} characters long; event names have at most ${MAX_EVENT_NAME_CHARS}. Send system:discover for the list of events.` });
    }
    const handlers = this.catalogue.handlersOf(event);
    if (!handlers) return errorLine(event, correlationId, this.unroutable(event));
    // The envelope is one level: data at depth MAX_DATA_DEPTH is the line's depth MAX_DATA_DEPTH + 1.
    if (nestsDeeperThan(line, MAX_DATA_DEPTH + 1)) {
      return errorLine(event, correlationId, invalidData(event, `nests deeper than ${MAX_DATA_DEPTH} levels of arrays and objects (the limit); flatten it or send the deep part as a JSON string`));
    }
    if (holdsNonFiniteNumber(line, data)) {
      return errorLine(event, correlationId, invalidData(event, 'holds a number too large for a double (such as 1e400), which would be stored as null; send it as a string'));
    }
    if (this.draining && !SERVED_WHILE_DRAINING.has(event)) {
      return errorLine(event, correlationId, { code: 'shutting_down', error: 'The daemon is shutting down and accepts no new requests; retry after it restarts' });
    }
    const context: EventContext = { event, correlationId, connection, agentId: connection.agentId };
    if (context.agentId !== undefined) {
      const denied = this.guards.deny(event, context, data);
      if (denied) return errorLine(event, correlationId, { code: 'permission_denied', error: denied });
    }
    const eventId = newEventId();
    const run = () => this.run(handlers, data ?? {}, context);
    if (!this.tap.active) return correlationStorage.run({ correlationId, eventId }, run);
    const started = performance.now();
    const reply = correlationStorage.run({ correlationId, eventId }, run);
    const observe = (line: string) => (this.observe(context, eventId, data, started, line), line);
    return typeof reply === 'string' ? observe(reply) : reply.then(observe);
  }

  private observe(context: EventContext, eventId: string, data: unknown, started: number, reply: string): void {
    // Every reply line has "count"; a request-level error line never does.
    const failed = !reply.includes('"count":');
    this.tap.record({
      event_id: eventId,
      event_name: context.event,
      data,
      timestamp: Date.now() / 1000,
      correlation_id: context.correlationId,
      client_id: context.connection?.id,
      agent_id: context.agentId,
      source: 'external',
      outcome: failed ? (/"code":"([a-z_]+)"/.exec(reply)?.[1] ?? 'error') : 'ok',
      duration_ms: Math.round((performance.now() - started) * 1000) / 1000,
    });
  }

  lineTooLong(maxLineBytes: number): string {
    return errorLine(undefined, undefined, { code: 'line_too_long', error: `Request line longer than ${maxLineBytes} bytes; the rest of the line was discarded (limit: KSI_MAX_LINE_BYTES)` });
  }

  partialLineTimedOut(timeoutMs: number): string {
    return errorLine(undefined, undefined, {
      code: 'line_timeout',
      error: `Part of a line arrived, then nothing for ${timeoutMs} ms; the connection is closed (limit: KSI_PARTIAL_LINE_TIMEOUT_MS). End every request with a newline`,
    });
  }

  /** Synchronous handlers get a synchronous reply: no promise, no microtask, on the hot path. */
  private run(handlers: CatalogueEntry[], data: unknown, context: EventContext): string | Promise<string> {
    if (handlers.length > 1) return this.runAll(handlers, data, context);
    const parsed = validate(handlers[0].declaration, data);
    if (!parsed.ok) return errorLine(context.event, context.correlationId, invalidParams(context.event, parsed.issues));
    let result: unknown;
    try {
      result = handlers[0].invoke(parsed.data, context);
    } catch (error) {
      result = errorResult(error);
    }
    if (result instanceof Promise) {
      return result.then(
        (value: unknown) => replyLine(context.event, context.correlationId, value === undefined || value === null ? [] : [value]),
        (error: unknown) => replyLine(context.event, context.correlationId, [errorResult(error)]),
      );
    }
    return replyLine(context.event, context.correlationId, result === undefined || result === null ? [] : [result]);
  }

  private async runAll(handlers: CatalogueEntry[], data: unknown, context: EventContext): Promise<string> {
    const inputs: Record<string, unknown>[] = [];
    for (const handler of handlers) {
      const parsed = validate(handler.declaration, data);
      if (!parsed.ok) return errorLine(context.event, context.correlationId, invalidParams(context.event, parsed.issues));
      inputs.push(parsed.data);
    }
    const results = await Promise.all(handlers.map((handler, index) => invokeSafely(handler, inputs[index], context)));
    return replyLine(
      context.event,
      context.correlationId,
      results.filter((result) => result !== undefined && result !== null),
    );
  }

  private unroutable(event: string): RequestError {
    if (this.catalogue.isInternal(event)) {
      return { code: 'forbidden_event', error: `${event} is raised inside the daemon only and cannot be sent over the socket` };
    }
    const suggestions = this.catalogue.suggest(event);
    const hint = suggestions.length > 0 ? ` Did you mean ${suggestions.join(', ')}?` : ' Send system:discover for the list of events.';
    return { code: 'unknown_event', error: `Unknown event "${event}".${hint}`, suggestions };
  }
}

async function invokeSafely(handler: CatalogueEntry, data: Record<string, unknown>, context: EventContext): Promise<unknown> {
  try {
    return await handler.invoke(data, context);
  } catch (error) {
    return errorResult(error);
  }
}

function invalidData(event: string, problem: string): RequestError {
  return invalidParams(event, [{ path: 'data', message: `The request ${problem}` }]);
}

function invalidParams(event: string, issues: ParamIssue[]): RequestError {
  return { code: 'invalid_params', error: `Invalid parameters for ${event}: ${describeIssues(issues)}`, details: issues };
}

const now = () => Date.now() / 1000;

function replyLine(event: string, correlationId: CorrelationId, results: unknown[]): string {
  const count = results.length;
  try {
    return JSON.stringify({ event, data: count === 1 ? results[0] : results, count, correlation_id: correlationId, timestamp: now() });
  } catch (error) {
    return errorLine(event, correlationId, { code: 'internal_error', error: `The result of ${event} could not be serialised as JSON: ${(error as Error).message}` });
  }
}

function errorLine(event: string | undefined, correlationId: CorrelationId | undefined, failure: RequestError): string {
  const { error, code, details, suggestions } = failure;
  return JSON.stringify({
    event,
    error,
    code,
    details,
    suggestions: suggestions?.length ? suggestions : undefined,
    correlation_id: correlationId,
    timestamp: now(),
  });
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  return value === null ? 'null' : `a ${typeof value}`;
}
