import { KsiConnectionError, KsiEventError, KsiTimeoutError } from '../../libs/client/src';

/** Exit statuses (CONTRACT §1). */
export const EXIT = { ok: 0, daemonError: 1, usage: 2, unreachable: 3 } as const;

/** A failure with the exit status it maps to and a sentence for the user. */
export class CliError extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
  }
}

export const usageError = (message: string) => new CliError(EXIT.usage, message);

/** Prints what went wrong on stderr and returns the exit status for it. */
export function report(error: unknown): number {
  if (error instanceof CliError) {
    process.stderr.write(`${error.message}\n`);
    return error.exitCode;
  }
  if (error instanceof KsiConnectionError) {
    process.stderr.write(`${error.message}\n`);
    return EXIT.unreachable;
  }
  if (error instanceof KsiEventError) {
    const suggestions = error.details?.map((issue) => `  ${issue.path}: ${issue.message}`).join('\n');
    process.stderr.write(`Error (${error.code}): ${error.message}\n${suggestions ? `${suggestions}\n` : ''}`);
    return EXIT.daemonError;
  }
  if (error instanceof KsiTimeoutError) {
    process.stderr.write(`${error.message}; the daemon may be overloaded or stuck (see its log)\n`);
    return EXIT.daemonError;
  }
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  return EXIT.daemonError;
}

/** An application error result from the daemon (`{error, code}`) becomes exit status 1. */
export function orFail<T>(result: T): T {
  if (typeof result === 'object' && result !== null && typeof (result as { error?: unknown }).error === 'string') {
    const { error, code } = result as unknown as { error: string; code?: string };
    throw new CliError(EXIT.daemonError, `Error${code ? ` (${code})` : ''}: ${error}`);
  }
  return result;
}
