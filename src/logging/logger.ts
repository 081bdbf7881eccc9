import type { LoggerService } from '@nestjs/common';
import pino, { type Logger } from 'pino';
import type { KsiConfig } from '../config/config';
import { correlationStorage } from '../events/correlation';

/** A line written while a request is handled names it: `grep` the correlation id to see everything it did. */
const withCorrelationId = () => {
  const scope = correlationStorage.getStore();
  return scope ? { correlation_id: scope.correlationId } : {};
};

/** Log lines waiting for a slow disk; beyond this they are dropped rather than held in memory. */
const LOG_BUFFER_BYTES = 16 * 1024 * 1024;

/** JSON lines to `var/logs/daemon/daemon.log`, written asynchronously off the hot path. */
export function createDaemonLog(config: KsiConfig): Logger {
  return pino(
    {
      level: config.logLevel,
      base: { pid: process.pid },
      mixin: withCorrelationId,
      messageKey: 'msg',
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    pino.destination({ dest: config.daemonLogFile, mkdir: true, sync: false, maxLength: LOG_BUFFER_BYTES }),
  );
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
