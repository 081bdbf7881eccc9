import type { LoggerService } from '@nestjs/common';
import { createHash } from 'node:crypto';
import pino, { type Logger } from 'pino';
import type { KsiConfig } from '../config/config';
import { correlationStorage } from '../events/correlation';
import { RepeatedLines } from './repeated-lines';

/** A line written while a request is handled names it: `grep` the correlation id to see everything it did. */
const withCorrelationId = () => {
  const scope = correlationStorage.getStore();
  return scope ? { correlation_id: scope.correlationId } : {};
};

/** Log lines waiting for a slow disk; beyond this they are dropped rather than held in memory. */
const LOG_BUFFER_BYTES = 16 * 1024 * 1024;

/** The same warning or error is written once in this long at most. */
const REPEATS_WINDOW_MS = 60_000;
const WARN_LEVEL = 40;

/**
 * JSON lines to `var/logs/daemon/daemon.log`, written asynchronously off the hot path. A warning or
 * error repeated with the same fields (a retry loop while the database is away) is written once a
 * minute, with `repeated`: how many copies were left out since the last.
 */
export function createDaemonLog(config: KsiConfig, now: () => number = Date.now): Logger {
  const repeats = new RepeatedLines(REPEATS_WINDOW_MS, now);
  return pino(
    {
      level: config.logLevel,
      base: { pid: process.pid },
      mixin: withCorrelationId,
      messageKey: 'msg',
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      hooks: {
        logMethod(args, write, level) {
          if (level < WARN_LEVEL) return write.apply(this, args);
          const key = repeatKey(level, args);
          const leftOut = key === undefined ? 0 : repeats.admit(key);
          if (leftOut === undefined) return;
          if (leftOut === 0) return write.apply(this, args);
          const [first, ...rest] = args as unknown[];
          const withCount =
            first instanceof Error ? [{ err: first, repeated: leftOut }, ...rest] : typeof first === 'object' && first !== null ? [{ ...first, repeated: leftOut }, ...rest] : [{ repeated: leftOut }, ...args];
          return write.apply(this, withCount as Parameters<typeof write>);
        },
      },
    },
    pino.destination({ dest: config.daemonLogFile, mkdir: true, sync: false, maxLength: LOG_BUFFER_BYTES }),
  );
}

/**
 * A digest of the line's level and arguments (an Error by its stack): kept per line, so that a large
 * line costs its key no more than a small one. Undefined when they cannot be written as JSON (a
 * cycle): such a line is always written.
 */
function repeatKey(level: number, args: unknown[]): string | undefined {
  try {
    const text = JSON.stringify(args, (_key, value: unknown) => (value instanceof Error ? (value.stack ?? value.message) : value));
    return createHash('sha1').update(`${level} ${text}`).digest('base64');
  } catch {
    return undefined;
  }
}

/** Nest's logger interface over the daemon log, so framework messages land in the same file. */
export class NestLogAdapter implements LoggerService {
  constructor(private readonly sink: Logger) {}

  log(message: unknown, context?: string): void {
    this.sink.info({ context }, String(message));
  }
  error(message: unknown, trace?: string, context?: string): void {
    this.sink.error({ context, trace }, message instanceof Error ? message.message : String(message));
  }
  warn(message: unknown, context?: string): void {
    this.sink.warn({ context }, String(message));
  }
  debug(message: unknown, context?: string): void {
    this.sink.debug({ context }, String(message));
  }
  verbose(message: unknown, context?: string): void {
    this.sink.trace({ context }, String(message));
  }
}

/** Injection token for the daemon's pino logger. */
export const DAEMON_LOG = Symbol('DAEMON_LOG');
