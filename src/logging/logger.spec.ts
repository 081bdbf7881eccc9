import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { eventually } from '../../test/support/daemon-process';
import { loadConfig } from '../config/config';
import { correlationStorage } from '../events/correlation';
import { createDaemonLog } from './logger';

describe('daemon log', () => {
  const varDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ksi-log-'));
  afterAll(() => fs.rmSync(varDir, { recursive: true, force: true }));

  it('names the correlation id of the request being handled in every line written for it', async () => {
    const config = loadConfig({ KSI_VAR_DIR: varDir });
    const log = createDaemonLog(config);
    correlationStorage.run({ correlationId: 'c-42', eventId: 'e-1' }, () => log.warn({ detail: 1 }, 'inside'));
    await correlationStorage.run({ correlationId: 7, eventId: 'e-2' }, async () => {
      await Promise.resolve();
      log.warn('after an await');
    });
    log.warn('outside');
    // The destination opens its file asynchronously: wait for the three lines.
    const lines = await eventually(() => {
      log.flush();
      const text = fs.existsSync(config.daemonLogFile) ? fs.readFileSync(config.daemonLogFile, 'utf8').trim() : '';
      const written = text ? text.split('\n').map((line) => JSON.parse(line) as Record<string, unknown>) : [];
      if (written.length !== 3) throw new Error(`${written.length} of 3 lines written`);
      return written;
    }, 5_000);
    expect(lines.map(({ msg, correlation_id }) => ({ msg, correlation_id }))).toEqual([
      { msg: 'inside', correlation_id: 'c-42' },
      { msg: 'after an await', correlation_id: 7 },
      { msg: 'outside', correlation_id: undefined },
    ]);
  });
});
