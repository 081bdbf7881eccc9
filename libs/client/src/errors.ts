import type { KsiErrorReply, ParamIssue } from './protocol';

export class KsiError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** The daemon could not be reached, or the connection dropped. */
export class KsiConnectionError extends KsiError {
  constructor(
    message: string,
    readonly socketPath?: string,
  ) {
    super(message);
  }
}

export class KsiTimeoutError extends KsiError {
  constructor(
    readonly event: string,
    readonly timeoutMs: number,
  ) {
    super(`No reply to ${event} within ${timeoutMs} ms`);
  }
}

/** The daemon answered with an error: a request-level error, or an application error result. */
export class KsiEventError extends KsiError {
  readonly details?: ParamIssue[];
  readonly suggestions?: string[];

  constructor(
    readonly event: string,
    readonly code: string,
    message: string,
    readonly response?: unknown,
  ) {
    super(message);
    const reply = response as Partial<KsiErrorReply> | undefined;
    this.details = reply?.details;
    this.suggestions = reply?.suggestions;
  }
}
