import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Logger } from 'pino';
import { eventually } from '../../test/support/daemon-process';
import { loadConfig } from '../config/config';
import { correlationStorage } from '../events/correlation';
import { createDaemonLog } from './logger';

describe('daemon log', () => {
  const varDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ksi-log-'));
  afterAll(() => fs.rmSync(varDir, { recursive: true, force: true }));

  /** The lines of a log file, once `count` are written (the destination opens its file asynchronously). */
  const linesOf = (log: Logger, file: string, count: number) =>
    eventually(() => {
      log.flush();
      const text = fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim() : '';
      const written = text ? text.split('\n').map((line) => JSON.parse(line) as Record<string, unknown>) : [];
      if (written.length !== count) throw new Error(`${written.length} of ${count} lines written`);
      return written;
    }, 5_000);

  it('writes a warning or error repeated with the same fields once a minute, saying how many copies it left out', async () => {
    const config = loadConfig({ KSI_VAR_DIR: path.join(varDir, 'repeats') });
    let now = 0;
    const log = createDaemonLog(config, () => now);
    for (; now < 5_000; now += 1_000) {
      log.warn({ err: 'connection refused' }, 'queue not read; looking again in 1000 ms');
      log.error(`LISTEN connection lost`);
      log.info('retrying');
    }
    log.warn({ err: 'another cause' }, 'queue not read; looking again in 1000 ms');
    now = 61_000;
    log.warn({ err: 'connection refused' }, 'queue not read; looking again in 1000 ms');
    const lines = await linesOf(log, config.daemonLogFile, 9);
    const refused = { level: 'warn', msg: 'queue not read; looking again in 1000 ms', err: 'connection refused', repeated: undefined };
    expect(lines.map(({ level, msg, err, repeated }) => ({ level, msg, err, repeated }))).toEqual([
      refused,
      { level: 'error', msg: 'LISTEN connection lost', err: undefined, repeated: undefined },
      ...Array.from({ length: 5 }, () => ({ level: 'info', msg: 'retrying', err: undefined, repeated: undefined })),
      { ...refused, err: 'another cause' },
      { ...refused, repeated: 4 },
    ]);
  });

  it('names the correlation id of the request being handled in every line written for it', async () => {
    const config = loadConfig({ KSI_VAR_DIR: varDir });
    const log = createDaemonLog(config);
    correlationStorage.run({ correlationId: 'c-42', eventId: 'e-1' }, () => log.warn({ detail: 1 }, 'inside'));
    await correlationStorage.run({ correlationId: 7, eventId: 'e-2' }, async () => {
      await Promise.resolve();
      log.warn('after an await');
    });
    log.warn('outside');
    const lines = await linesOf(log, config.daemonLogFile, 3);
    expect(lines.map(({ msg, correlation_id }) => ({ msg, correlation_id }))).toEqual([
      { msg: 'inside', correlation_id: 'c-42' },
      { msg: 'after an await', correlation_id: 7 },
      { msg: 'outside', correlation_id: undefined },
    ]);
  });
});
