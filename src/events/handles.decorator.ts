import { OnEvent } from '@nestjs/event-emitter';
import type { ParamIssue, ParamsSchema } from '../../libs/client/src';
import type { EventContext } from './event-context';
import { errorResult } from './event-error';

export interface HandlesOptions {
  /** One line for discovery and help. */
  summary: string;
  /** Validates `data` and documents it (discovery's JSON Schema comes from it). */
  params: ParamsSchema;
  /** Raised inside the daemon only; the socket refuses it with `forbidden_event`. */
  internal?: boolean;
  /**
   * Params (dotted paths) that name an agent, and which agent a connection identified as an agent
   * may name there; request guards refuse the rest before the handler runs. Unlisted params are free.
   */
  agentParams?: Record<string, AgentScope>;
  /** The param naming a state namespace: an identified agent may name its own and those its profile grants. */
  namespaceParam?: string;
}

/** Itself; itself or an agent it spawned; only an agent it spawned (managing it). */
export type AgentScope = 'self' | 'self_or_child' | 'child';

export type HandlerMethod = (data: Record<string, unknown>, context: EventContext) => unknown;

export interface EventDeclaration extends HandlesOptions {
  event: string;
  /** The undecorated method, called by the dispatcher after validation. */
  method: HandlerMethod;
  methodName: string;
}

export const EVENT_DECLARATION = Symbol('ksi:event-declaration');

/**
 * Declares a KSI event handler: its name, parameter schema and summary, in one place.
 * The method also becomes an `@OnEvent` listener, so modules reach it through the event bus;
 * on that path it validates its input and never rejects (errors come back as results).
 */
export function Handles(event: string, options: HandlesOptions): MethodDecorator {
  return (target, key, descriptor: PropertyDescriptor) => {
    const method = descriptor.value as HandlerMethod;
    const declaration: EventDeclaration = { ...options, event, method, methodName: String(key) };
    const listener = async function (this: unknown, data: unknown, context?: EventContext) {
      const parsed = validate(declaration, data ?? {});
      if (!parsed.ok) return { error: `Invalid parameters for ${event}: ${describeIssues(parsed.issues)}`, code: 'invalid_params', details: parsed.issues };
      try {
        return await method.call(this, parsed.data, context ?? { event, correlationId: null });
      } catch (error) {
        return errorResult(error);
      }
    };
    Object.defineProperty(listener, 'name', { value: String(key) });
    descriptor.value = listener;
    Reflect.defineMetadata(EVENT_DECLARATION, declaration, listener);
    OnEvent(event, { suppressErrors: false })(target, key, descriptor);
    return descriptor;
  };
}

export type Validation = { ok: true; data: Record<string, unknown> } | { ok: false; issues: ParamIssue[] };

export function validate(declaration: EventDeclaration, data: unknown): Validation {
  const result = declaration.params.safeParse(data);
  if (result.success) return { ok: true, data: result.data };
  return {
    ok: false,
    issues: result.error.issues.map((issue) => ({
      path: issue.path.length > 0 ? issue.path.join('.') : 'data',
      message: issue.message,
    })),
  };
}

export function describeIssues(issues: ParamIssue[]): string {
  return issues.map((issue) => `${issue.path}: ${issue.message}`).join('; ');
}
