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

/**
 * A client that identified as an agent reconnected and the daemon refused its token: the agent was
 * terminated or removed, or its token issued again. The client sends nothing more, so it never goes on
 * as the operator (an unidentified connection). Not a KsiEventError, which getValue would turn into its default.
 */
export class KsiIdentityError extends KsiError {
  readonly code = 'permission_denied';

  constructor(
    readonly agentId: string,
    /** The daemon's answer to system:identify. */
    readonly reason: string,
    readonly socketPath: string,
  ) {
    super(
      `This client identified as agent ${agentId}, and on reconnecting to ${socketPath} the daemon refused its token (${reason}): ` +
        `the agent was terminated or removed, or its token was issued again. Nothing more is sent through this client; ` +
        `to go on, make a new KsiClient and identify with a current token (permission:issue_token).`,
    );
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
