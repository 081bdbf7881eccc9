import { Inject, Injectable } from '@nestjs/common';
import type { Logger } from 'pino';
import type { z } from '../../libs/client/src';
import { KSI_CONFIG, type KsiConfig } from '../config/config';
import { DAEMON_LOG } from '../logging/logger';
import { schemaMismatch } from './schema-mismatch';

/** Starts the stderr line of every mismatch, so a test harness can fail a run that had one. */
export const CONTRACT_VIOLATION = 'KSI contract violation';

/**
 * Under KSI_CHECK_RESULTS (on in the test suite): every handler's result, every raised notification
 * and every pushed line is compared with its definition. A mismatch is logged and written to stderr,
 * whoever raised it and whether or not a caller swallows the consequence.
 */
@Injectable()
export class ContractCheck {
  readonly enabled: boolean;

  constructor(
    @Inject(KSI_CONFIG) config: KsiConfig,
    @Inject(DAEMON_LOG) private readonly log: Logger,
  ) {
    this.enabled = config.checkResults;
  }

  /** What `value` does not match in `schema`, reported; undefined when it matches or checking is off. */
  check(what: string, schema: z.ZodType, value: unknown): string | undefined {
    if (!this.enabled) return undefined;
    const mismatch = schemaMismatch(schema, value);
    if (mismatch === undefined) return undefined;
    const line = `${CONTRACT_VIOLATION}: ${what}: ${mismatch}`;
    this.log.error(line);
    process.stderr.write(`${line}\n`);
    return mismatch;
  }
}
