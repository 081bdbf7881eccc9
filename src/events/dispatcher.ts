import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { isErrorResult, shutdownAcknowledge, systemHealth, type CorrelationId, type ParamIssue, type RequestErrorCode } from '../../libs/client/src';
import { correlationStorage, newEventId, type CorrelationScope } from './correlation';
import type { ClientConnection, EventContext } from './event-context';
import { errorResult } from './event-error';
import { EventCatalogue, type CatalogueEntry } from './event-catalogue';
import { EventTap } from './event-tap';
import { RequestGuards } from './request-guard';
import { describeIssues, validate } from './handles.decorator';
import { ContractCheck } from './contract-check';
import { holdsNonFiniteNumber, MAX_DATA_DEPTH, nestsDeeperThan } from './json-limits';

/** A request from the socket that passed the envelope's checks and has handlers. */
export interface PreparedRequest {
  context: EventContext;
  handlers: CatalogueEntry[];
  data: unknown;
  /** Every handler declared `writesInOrder`: the connection may run the lines after it before it is answered. */
  writesInOrder: boolean;
}

/** What a request came to: the results of its handlers, or a request-level error. */
export type Outcome = { results: unknown[] } | { failure: RequestError };

export interface RequestError {
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
const SERVED_WHILE_DRAINING = new Set<string>([shutdownAcknowledge.name, systemHealth.name]);

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
    private readonly contract: ContractCheck,
  ) {}

  /** A request line, checked and routed but not yet run; or the error line that answers it. */
  prepare(line: string, connection: ClientConnection): string | PreparedRequest {
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
    // Internal events may have handlers too (raised in-process): the socket never reaches them.
    if (!handlers || this.catalogue.isInternal(event)) return errorLine(event, correlationId, this.unroutable(event));
    // The envelope is one level: data at depth MAX_DATA_DEPTH is the line's depth MAX_DATA_DEPTH + 1.
    if (nestsDeeperThan(line, MAX_DATA_DEPTH + 1)) {
      return errorLine(event, correlationId, invalidData(event, `nests deeper than ${MAX_DATA_DEPTH} levels of arrays and objects (the limit); flatten it or send the deep part as a JSON string`));
    }
    if (holdsNonFiniteNumber(line, data)) {
      return errorLine(event, correlationId, invalidData(event, 'holds a number too large for a double (such as 1e400), which would be stored as null; send it as a string'));
    }
    const context: EventContext = { event, correlationId, connection, agentId: connection.agentId };
    return { context, handlers, data: data ?? {}, writesInOrder: handlers.every((handler) => handler.writesInOrder) };
  }

  /** Runs a prepared request: its reply line, at once when its handlers answered synchronously. */
  run({ context, handlers, data }: PreparedRequest): string | Promise<string> {
    const eventId = newEventId();
    const started = performance.now();
    const outcome = this.execute(handlers, data, context, eventId);
    return outcome instanceof Promise ? outcome.then((settled) => this.reply(context, eventId, data, started, settled)) : this.reply(context, eventId, data, started, outcome);
  }

  /**
   * The one path of every request, from the socket (the context has a connection) or from inside the
   * daemon (EventBus): admission, validation, the handlers, error capture, correlation and recording.
   * Synchronous handlers get a synchronous outcome: no promise, no microtask, on the hot path.
   */
  execute(handlers: CatalogueEntry[], data: unknown, context: EventContext, eventId = newEventId()): Outcome | Promise<Outcome> {
    const external = context.connection !== undefined;
    if (external) {
      const refused = this.admit(context, data);
      if (refused) return { failure: refused };
    }
    const cause = correlationStorage.getStore();
    const scope: CorrelationScope = { correlationId: external ? context.correlationId : (cause?.correlationId ?? context.correlationId), eventId };
    if (!external) context.correlationId = scope.correlationId;
    // A request from the socket is recorded with its reply (outcome and duration); an internal one as it is raised.
    if (!external && this.tap.active && !context.unrecorded) {
      this.tap.record({ event_id: eventId, parent_id: cause?.eventId, event_name: context.event, data, timestamp: Date.now() / 1000, correlation_id: scope.correlationId, agent_id: context.agentId, source: 'internal' });
    }
    return correlationStorage.run(scope, () => (handlers.length === 1 ? this.runOne(handlers[0], data, context) : this.runAll(handlers, data, context)));
  }

  /** Requests from the socket: refused while draining, and checked against an identified agent's rights. */
  private admit(context: EventContext, data: unknown): RequestError | undefined {
    if (this.draining && !SERVED_WHILE_DRAINING.has(context.event)) {
      return { code: 'shutting_down', error: 'The daemon is shutting down and accepts no new requests; retry after it restarts' };
    }
    if (context.agentId === undefined) return undefined;
    const denied = this.guards.deny(context.event, context, data);
    return denied ? { code: 'permission_denied', error: denied } : undefined;
  }

  /** The reply line of a socket request, recorded with its outcome as the client sees it (a result that cannot be serialised included). */
  private reply(context: EventContext, eventId: string, data: unknown, started: number, outcome: Outcome): string {
    const { line, failure } = replyOf(context, outcome);
    if (!this.tap.active) return line;
    this.tap.record({
      event_id: eventId,
      event_name: context.event,
      data,
      timestamp: Date.now() / 1000,
      correlation_id: context.correlationId,
      client_id: context.connection?.id,
      agent_id: context.agentId,
      source: 'external',
      outcome: failure ?? 'ok',
      duration_ms: Math.round((performance.now() - started) * 1000) / 1000,
    });
    return line;
  }

  /** The reply to a request whose handling failed where no failure was expected. */
  internalError(message: string): string {
    return errorLine(undefined, undefined, { code: 'internal_error', error: `The request failed inside the daemon: ${message}` });
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

  private runOne(handler: CatalogueEntry, data: unknown, context: EventContext): Outcome | Promise<Outcome> {
    const parsed = validate(handler.definition.params, data);
    if (!parsed.ok) return { failure: invalidParams(context.event, parsed.issues) };
    let result: unknown;
    try {
      result = handler.invoke(parsed.data, context);
    } catch (error) {
      result = errorResult(error);
    }
    if (result instanceof Promise) {
      return result.then(
        (value: unknown) => this.settle([handler], [value]),
        (error: unknown) => ({ results: [errorResult(error)] }),
      );
    }
    return this.settle([handler], [result]);
  }

  /** Every handler of an event shares its definition: the data is validated once. */
  private async runAll(handlers: CatalogueEntry[], data: unknown, context: EventContext): Promise<Outcome> {
    const parsed = validate(handlers[0].definition.params, data);
    if (!parsed.ok) return { failure: invalidParams(context.event, parsed.issues) };
    return this.settle(handlers, await Promise.all(handlers.map((handler) => invokeSafely(handler, parsed.data, context))));
  }

  /** The REST rule: null and undefined results are left out. Under KSI_CHECK_RESULTS a result its definition does not describe is an internal error. */
  private settle(handlers: CatalogueEntry[], values: unknown[]): Outcome {
    const results: unknown[] = [];
    for (let index = 0; index < values.length; index++) {
      const value = values[index];
      if (value === undefined || value === null) continue;
      if (this.contract.enabled && !isCodedError(value)) {
        const { handler, event, definition } = handlers[index];
        const mismatch = this.contract.check(`the result of ${handler} (${event})`, definition.result, value);
        if (mismatch) return { failure: { code: 'internal_error', error: `The result of ${handlers[index].handler} does not match the definition of ${handlers[index].event}: ${mismatch}` } };
      }
      results.push(value);
    }
    return { results };
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

/** The reply line, and the request-level error code it carries (none for results). */
function replyOf(context: EventContext, outcome: Outcome): { line: string; failure?: RequestErrorCode } {
  const { event, correlationId } = context;
  if ('failure' in outcome) return { line: errorLine(event, correlationId, outcome.failure), failure: outcome.failure.code };
  const { results } = outcome;
  try {
    return { line: JSON.stringify({ event, data: results.length === 1 ? results[0] : results, count: results.length, correlation_id: correlationId, timestamp: now() }) };
  } catch (error) {
    const unserialisable: RequestError = { code: 'internal_error', error: `The result of ${event} could not be serialised as JSON: ${(error as Error).message}` };
    return { line: errorLine(event, correlationId, unserialisable), failure: unserialisable.code };
  }
}

/** An application error (`{error, code}`) is a result no definition describes; a result that merely has an `error` field is checked. */
function isCodedError(value: unknown): boolean {
  return isErrorResult(value) && typeof value.code === 'string';
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
