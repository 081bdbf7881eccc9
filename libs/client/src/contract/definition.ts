import { z, type ParamsSchema } from './schema';

/**
 * `request`: a client may send it (modules may raise it in-process too); each handler answers with a result.
 * `internal`: raised inside the daemon only; handlers answer like a request, or listeners are notified.
 * `push`: sent to clients unasked (and raised in-process for the daemon's own listeners).
 */
export type EventKind = 'request' | 'internal' | 'push';

export interface RequestDefinition<N extends string = string, P extends ParamsSchema = ParamsSchema, R extends z.ZodType = z.ZodType> {
  readonly name: N;
  readonly kind: 'request';
  /** One line for discovery and help. */
  readonly summary: string;
  /** Validates `data` and documents it (discovery's JSON Schema comes from it). */
  readonly params: P;
  /** One handler's result (error results aside); discovery shows it. */
  readonly result: R;
}

export interface InternalDefinition<N extends string = string, P extends ParamsSchema = ParamsSchema, R extends z.ZodType = z.ZodType> {
  readonly name: N;
  readonly kind: 'internal';
  readonly summary: string;
  /** What handlers receive; for a notification, the payload listeners receive. */
  readonly params: P;
  /** One handler's result; `z.void()` for a notification. */
  readonly result: R;
}

export interface PushDefinition<N extends string = string, P extends z.ZodType = z.ZodType> {
  readonly name: N;
  readonly kind: 'push';
  readonly summary: string;
  /** The pushed line's `data`. */
  readonly payload: P;
}

export type EventDefinition = RequestDefinition | InternalDefinition | PushDefinition;

/** A push, or an internal event whose result is `z.void()`: listeners receive it and nobody answers. */
export function isNotification(definition: EventDefinition): definition is NotifiedDefinition {
  return definition.kind === 'push' || (definition.kind === 'internal' && definition.result instanceof z.ZodVoid);
}
/** Definitions whose handlers answer: what `@Handles` and the in-process `request` take. */
export type AnsweredDefinition = RequestDefinition | InternalDefinition;
/** Definitions raised as notifications: what `@Listens` and the in-process `emit` take. */
export type NotifiedDefinition = InternalDefinition | PushDefinition;

/** What a caller sends (defaults not yet applied). */
export type ParamsIn<D extends AnsweredDefinition> = z.input<D['params']>;
/** What a handler receives, validated and with defaults applied. */
export type ParamsOut<D extends AnsweredDefinition> = z.output<D['params']>;
/** One handler's result. */
export type HandlerResult<D extends AnsweredDefinition> = z.output<D['result']>;
/** What a listener of a notification or a push receives. */
export type PayloadOf<D extends NotifiedDefinition> = D extends PushDefinition ? z.output<D['payload']> : D extends InternalDefinition ? z.output<D['params']> : never;

export function defineRequest<const N extends string, P extends ParamsSchema, R extends z.ZodType>(
  name: N,
  spec: { summary: string; params: P; result: R },
): RequestDefinition<N, P, R> {
  return { name, kind: 'request', ...spec };
}

export function defineInternal<const N extends string, P extends ParamsSchema, R extends z.ZodType>(
  name: N,
  spec: { summary: string; params: P; result: R },
): InternalDefinition<N, P, R> {
  return { name, kind: 'internal', ...spec };
}

export function definePush<const N extends string, P extends z.ZodType>(name: N, spec: { summary: string; payload: P }): PushDefinition<N, P> {
  return { name, kind: 'push', ...spec };
}
