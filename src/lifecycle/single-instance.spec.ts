import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { lockHolder, varDirLockPath } from './lock-holder';
import { AlreadyRunningError, lockVarDir } from './single-instance';

describe('the var dir lock', () => {
  let varDir: string;
  beforeEach(() => {
    varDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ksi-lock-'));
    fs.mkdirSync(path.join(varDir, 'run'));
  });
  afterEach(() => fs.rmSync(varDir, { recursive: true, force: true }));

  it('is held until released, names its holder, and refuses a second taker with the holder’s PID', () => {
    expect(lockHolder(varDirLockPath(varDir))).toBeUndefined();
    const lock = lockVarDir(varDir);
    expect(lockHolder(varDirLockPath(varDir))).toBe(process.pid);
    expect(() => lockVarDir(varDir)).toThrow(AlreadyRunningError);
    expect(() => lockVarDir(varDir)).toThrow(`A KSI daemon is already running (PID ${process.pid}) on ${varDir}`);
    lock.close();
    expect(lockHolder(varDirLockPath(varDir))).toBeUndefined();
    lockVarDir(varDir).close();
  });
});
