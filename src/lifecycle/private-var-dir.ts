import * as fs from 'node:fs';
import * as path from 'node:path';
import type { KsiConfig } from '../config/config';
import { daemonSettingsPath } from './daemon-settings';
import { varDirLockPath } from './lock-holder';

/**
 * Takes back what an older daemon, or one run under umask 022, left readable by other users: the var
 * dir and the folders the daemon owns become 0700, its database, logs and run files 0600. (New files
 * are private from the start: the daemon runs under umask 077.) A folder 0700 closes everything
 * below it, so response logs and sandboxes need no walk.
 */
export function restrictVarDir(config: KsiConfig): void {
  const inVarDir = (file: string) => !path.relative(config.varDir, file).startsWith('..');
  const dbDir = path.dirname(config.dbPath);
  const dirs = [
    config.varDir,
    path.join(config.varDir, 'run'),
    ...(inVarDir(dbDir) ? [dbDir] : []),
    config.logDir,
    path.dirname(config.daemonLogFile),
    config.responseLogDir,
    config.sandboxDir,
  ];
  const files = [
    config.dbPath,
    `${config.dbPath}-wal`,
    `${config.dbPath}-shm`,
    config.daemonLogFile,
    path.join(path.dirname(config.daemonLogFile), 'daemon_startup.log'),
    config.pidFile,
    varDirLockPath(config.varDir),
    daemonSettingsPath(config.varDir),
  ];
  for (const dir of dirs) chmodIfPresent(dir, 0o700);
  for (const file of files) chmodIfPresent(file, 0o600);
}

function chmodIfPresent(file: string, mode: number): void {
  try {
    fs.chmodSync(file, mode);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}
