import { differingVariables } from './daemon-settings';
import { StartupError, startupFailure } from './startup-failure';

const errorWith = (code: string, message: string, extra: Record<string, unknown> = {}) => Object.assign(new Error(message), { code, ...extra });

describe('start-up failures in one line', () => {
  it.each([
    [errorWith('SQLITE_NOTADB', 'file is not a database'), '/v/db/ksi.db', 'KSI daemon cannot start: the file is not a SQLite database: /v/db/ksi.db (SQLITE_NOTADB); move it aside (KSI then starts an empty database) or set KSI_DB_PATH.'],
    [errorWith('SQLITE_CORRUPT', 'database disk image is malformed'), '/v/db/ksi.db', 'KSI daemon cannot start: the database file is damaged: /v/db/ksi.db (SQLITE_CORRUPT); move it aside (KSI then starts an empty database) or restore a copy.'],
    [errorWith('SQLITE_FULL', 'database or disk is full'), '/v/db/ksi.db', 'KSI daemon cannot start: no space left on the device: /v/db/ksi.db (SQLITE_FULL); free some space and start again.'],
    [errorWith('SQLITE_IOERR_WRITE', 'disk I/O error'), '/v/db/ksi.db', 'KSI daemon cannot start: the disk reported an I/O error: /v/db/ksi.db (SQLITE_IOERR_WRITE); check the disk and start again.'],
    [errorWith('ENOSPC', 'no space left on device, write', { path: '/v/run/x' }), '/v', 'KSI daemon cannot start: no space left on the device: /v/run/x (ENOSPC); free some space and start again.'],
  ])('%s', (error, filePath, line) => {
    expect((startupFailure(error, filePath) as Error).message).toBe(line);
  });

  it('keeps a line already written, and an unknown error as it is (a bug: its stack is printed)', () => {
    const written = new StartupError('already one line');
    expect(startupFailure(written, '/v')).toBe(written);
    const bug = new TypeError('x is undefined');
    expect(startupFailure(bug, '/v/run/daemon.sock')).toBe(bug);
  });
});

describe('restart: the variables this shell differs in', () => {
  it('names set, unset and changed KSI_* variables and CLAUDE_BIN, and ignores every other variable', () => {
    const recorded = { KSI_LOG_LEVEL: 'debug', KSI_VAR_DIR: '/v', CLAUDE_BIN: '/bin/claude' };
    const shell = { KSI_LOG_LEVEL: 'info', KSI_VAR_DIR: '/v', KSI_MAX_CONCURRENT: '2', HOME: '/root', PATH: '/bin' };
    expect(differingVariables(recorded, shell)).toEqual(['CLAUDE_BIN', 'KSI_LOG_LEVEL', 'KSI_MAX_CONCURRENT']);
    expect(differingVariables(recorded, { ...recorded, HOME: '/elsewhere' })).toEqual([]);
  });
});
