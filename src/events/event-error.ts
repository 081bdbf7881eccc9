import type { ErrorResult } from '../../libs/client/src';

/**
 * An application error a handler can throw or return: it becomes the result `{error, code}`.
 * Anything else a handler throws becomes `{error, code: "handler_error"}`.
 */
export class EventError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }

  toResult(): ErrorResult {
    return { error: this.message, code: this.code, ...this.extra };
  }
}

export function errorResult(error: unknown): ErrorResult {
  if (error instanceof EventError) return error.toResult();
  return { error: error instanceof Error ? error.message : String(error), code: 'handler_error' };
}
