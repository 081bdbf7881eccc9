import { DiscoveryService } from '@nestjs/core';
import { OnEvent } from '@nestjs/event-emitter';
import {
  type AnsweredDefinition,
  type ErrorResult,
  type HandlerResult,
  type NotifiedDefinition,
  type ParamIssue,
  type ParamsOut,
  type ParamsSchema,
  type PayloadOf,
  type z,
} from '../../libs/client/src';
import type { EventContext } from './event-context';

/**
 * Itself; itself or an agent it spawned; only an agent it spawned (managing it); whoever it sends a
 * message to, which may become that agent's turn (see the profile's `messaging`); the same when the
 * recipient can only be an agent, which then must have permissions even while connected.
 */
export type AgentScope = 'self' | 'self_or_child' | 'child' | 'recipient' | 'agent_recipient';

/** Which agents and namespaces a connection identified as an agent may name; request guards enforce it. */
export interface AccessRules {
  /** Params (dotted paths) that name an agent, and which agent an identified agent may name there. Unlisted params are free. */
  agentParams?: Record<string, AgentScope>;
  /** The param naming a state namespace: an identified agent may name its own and those its profile grants. */
  namespaceParam?: string;
}

export interface HandlerOptions extends AccessRules {
  /**
   * The handler's only effect is the storage writes it queues before it returns, and what it answers
   * comes from them: a connection may run the request lines after it while they commit (pipelining),
   * since a later write queues behind them. A line that is not such a write waits for the replies
   * before it, so a read still sees what the same connection wrote.
   */
  writesInOrder?: boolean;
}

export interface HandlerRegistration {
  definition: AnsweredDefinition;
  access: AccessRules;
  writesInOrder: boolean;
}

type Awaitable<T> = T | Promise<T>;
/** A handler's signature, from its definition: a result of the wrong shape does not compile. */
export type HandlerOf<D extends AnsweredDefinition> = (data: ParamsOut<D>, context: EventContext) => Awaitable<HandlerResult<D> | ErrorResult>;
export type ListenerOf<D extends NotifiedDefinition> = (payload: PayloadOf<D>, context: EventContext) => unknown;

/** Only the method's type is checked (a whole TypedPropertyDescriptor would also demand the same parameter types). */
interface MethodOf<T> {
  value?: T;
}

export const HandlerMarker = DiscoveryService.createDecorator<HandlerRegistration>();
export const ListenerMarker = DiscoveryService.createDecorator<NotifiedDefinition>();

/**
 * Declares the handler of a request (or of an internal request). The dispatcher finds it at start and
 * is the only caller: validation, error capture, correlation, permission and recording happen there.
 */
export function Handles<D extends AnsweredDefinition>(
  definition: D,
  { writesInOrder = false, ...access }: HandlerOptions = {},
): (target: object, key: string | symbol, descriptor: MethodOf<HandlerOf<D>>) => void {
  return (target, key, descriptor) => HandlerMarker({ definition, access, writesInOrder })(target, key, descriptor as PropertyDescriptor);
}

/**
 * Declares a listener of a notification or a push raised inside the daemon (`bus.emit`). Listeners
 * answer nothing; an error they throw is logged by the event emitter.
 */
export function Listens<D extends NotifiedDefinition>(
  definition: D,
): (target: object, key: string | symbol, descriptor: MethodOf<ListenerOf<D>>) => void {
  return (target, key, descriptor) => {
    ListenerMarker(definition)(target, key, descriptor as PropertyDescriptor);
    OnEvent(definition.name)(target, key, descriptor as PropertyDescriptor);
  };
}

export type Validation = { ok: true; data: Record<string, unknown> } | { ok: false; issues: ParamIssue[] };

export function validate(schema: ParamsSchema, data: unknown): Validation {
  const result = schema.safeParse(data);
  if (result.success) return { ok: true, data: result.data };
  return { ok: false, issues: issuesOf(result.error) };
}

export function issuesOf(error: z.ZodError): ParamIssue[] {
  return error.issues.map((issue) => ({ path: issue.path.length > 0 ? issue.path.join('.') : 'data', message: issue.message }));
}

export function describeIssues(issues: ParamIssue[]): string {
  return issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ');
}
