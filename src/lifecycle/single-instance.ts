import Database from 'better-sqlite3';
import * as fs from 'node:fs';
import * as net from 'node:net';
import type { KsiConfig } from '../config/config';
import { lockHolder, varDirLockPath } from './lock-holder';
import { StartupError } from './startup-failure';

export class AlreadyRunningError extends StartupError {}

/**
 * How long a contender retries: daemons started together each take SQLite's shared lock on the way to
 * the exclusive one; a loser lets go and retries, so that exactly one gets through.
 */
const CONTENTION_MS = 500;

/**
 * Takes the var dir's exclusive lock, or throws AlreadyRunningError naming the holder. The lock file
 * is a SQLite database inside an exclusive transaction that never ends, so SQLite holds a POSIX write
 * lock on it (no native package beyond better-sqlite3); the kernel releases it when the process dies,
 * even by SIGKILL. Normal locking mode on purpose: in exclusive mode a contender keeps its shared lock
 * while it waits, and two contenders can both fail. The journal is in memory: taking the lock writes
 * nothing, so it works on a full disk too. The caller keeps the handle referenced for the process's
 * life: a collected handle closes and drops the lock.
 */
export function lockVarDir(varDir: string): Database.Database {
  const file = varDirLockPath(varDir);
  const db = new Database(file, { timeout: CONTENTION_MS });
  try {
    db.pragma('journal_mode = MEMORY');
    db.exec('BEGIN EXCLUSIVE');
  } catch (error) {
    db.close();
    if ((error as { code?: string }).code !== 'SQLITE_BUSY') throw error;
    const holder = lockHolder(file);
    throw new AlreadyRunningError(
      `A KSI daemon is already running${holder ? ` (PID ${holder})` : ''} on ${varDir} (it holds ${file}); one daemon per var dir. Stop it with \`npx ksi daemon stop\`.`,
    );
  }
  return db;
}

/**
 * Refuses to start when another daemon answers on the socket path (one of another var dir), and when
 * something that is not a socket is there: that is someone's file, never deleted. A socket nobody
 * answers on is a dead daemon's, which the transport replaces.
 */
export async function assertSocketFree(config: KsiConfig): Promise<void> {
  let stat: fs.Stats;
  try {
    stat = fs.lstatSync(config.socketPath);
  } catch {
    return;
  }
  if (!stat.isSocket()) {
    const kind = stat.isDirectory() ? 'a directory' : stat.isSymbolicLink() ? 'a symbolic link' : 'a file that is not a socket';
    throw new AlreadyRunningError(`The socket path ${config.socketPath} is ${kind}; move it away or set KSI_SOCKET_PATH to another path.`);
  }
  if (!(await answers(config.socketPath))) return;
  const pid = readPid(config.pidFile);
  throw new AlreadyRunningError(`A KSI daemon is already running${pid ? ` (PID ${pid})` : ''} on ${config.socketPath}. Stop it with \`npx ksi daemon stop\`.`);
}

export function readPid(pidFile: string): number | undefined {
  try {
    const pid = Number.parseInt(fs.readFileSync(pidFile, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function answers(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.createConnection(socketPath);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
