import * as fs from 'node:fs';
import * as path from 'node:path';

/** A start-up failure already phrased as the one line the terminal shows. */
export class StartupError extends Error {}

/** How the line starts; `ksi db` opens the database too, and says so. */
const DAEMON_CANNOT_START = 'KSI daemon cannot start';

/** Causes by error code (Node's, and SQLite's primary codes: extended ones such as SQLITE_IOERR_WRITE match by prefix). */
const CAUSES: [code: string, cause: string, advice: string][] = [
  ['ENOSPC', 'no space left on the device', 'free some space and start again'],
  ['SQLITE_FULL', 'no space left on the device', 'free some space and start again'],
  ['EROFS', 'the file system is read-only', 'KSI needs a writable var dir (KSI_VAR_DIR)'],
  ['EACCES', 'permission denied', 'KSI needs a var dir (KSI_VAR_DIR) its user can write'],
  ['EPERM', 'permission denied', 'KSI needs a var dir (KSI_VAR_DIR) its user can write'],
  ['SQLITE_READONLY', 'the database cannot be written', 'KSI needs a writable var dir (KSI_VAR_DIR) and database file'],
  ['SQLITE_NOTADB', 'the file is not a SQLite database', 'move it aside (KSI then starts an empty database) or set KSI_DB_PATH'],
  ['SQLITE_CORRUPT', 'the database file is damaged', 'move it aside (KSI then starts an empty database) or restore a copy'],
  ['SQLITE_CANTOPEN', 'the file cannot be opened', 'check that its folder exists and is writable'],
  ['SQLITE_IOERR', 'the disk reported an I/O error', 'check the disk and start again'],
];

/**
 * The one line a failed start prints for a cause the operator can fix (damaged database, read-only
 * or full disk, missing rights): the cause and the path it concerns. `filePath` is what the failing
 * step worked on; an error that names its own path (Node's fs errors) wins. Anything else is a bug,
 * returned as it is so that its stack is printed.
 */
export function startupFailure(error: unknown, filePath: string, failing = DAEMON_CANNOT_START): unknown {
  if (error instanceof StartupError) return error;
  const { code, path: ownPath } = error as NodeJS.ErrnoException;
  const subject = ownPath ?? filePath;
  const probed = unwritableBecause(code, subject);
  const shownCode = probed ?? code;
  const known = CAUSES.find(([prefix]) => shownCode?.startsWith(prefix));
  if (!known) return error;
  const [, cause, advice] = known;
  return new StartupError(`${failing}: ${cause}: ${subject} (${shownCode}); ${advice}.`);
}

/**
 * Node's recursive mkdir reports ENOENT, and SQLite CANTOPEN or READONLY, where the cause may be a
 * read-only file system or missing rights: ask the path, or its nearest existing ancestor.
 */
function unwritableBecause(code: string | undefined, subject: string): string | undefined {
  if (!code || !/^(ENOENT|SQLITE_CANTOPEN|SQLITE_READONLY)/.test(code)) return undefined;
  let nearest = subject;
  while (!fs.existsSync(nearest) && path.dirname(nearest) !== nearest) nearest = path.dirname(nearest);
  try {
    fs.accessSync(nearest, fs.constants.W_OK);
    return undefined;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code;
  }
}

/** What to do about a PostgreSQL server that refuses to serve the daemon, by its error's code. */
const POSTGRES_ADVICE: [code: RegExp, advice: string][] = [
  [/^(28P01|28000)$/, 'check the user and password in KSI_DATABASE_URL (and the server\'s pg_hba.conf)'],
  [/^3D000$/, 'create the database (createdb) or correct its name in KSI_DATABASE_URL'],
  [/^(ENOTFOUND|EAI_AGAIN)$/, 'check the host name in KSI_DATABASE_URL'],
  [/^(ECONNREFUSED|ENOENT|ETIMEDOUT|EHOSTUNREACH)$/, 'check that the server runs and listens where KSI_DATABASE_URL says'],
  [/^57P03$/, 'the server is starting or stopping: start KSI again in a moment'],
  [/^53300$/, 'the server has no connection left: raise its max_connections or stop other clients'],
  [/^42501$/, 'the user may not create KSI\'s tables: grant it CREATE on the database, or use its owner'],
];

/**
 * The one line a failed start prints when the PostgreSQL server at `location` (no password) cannot
 * serve the daemon: unreachable, a refused login, a missing database. Anything else is returned as it is.
 */
export function postgresStartupFailure(error: unknown, location: string, failing = DAEMON_CANNOT_START): unknown {
  if (error instanceof StartupError) return error;
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  const timedOut = typeof message === 'string' && /timeout/i.test(message) && code === undefined;
  const advice = timedOut ? 'the server did not answer in time: check that it runs and is reachable' : POSTGRES_ADVICE.find(([pattern]) => typeof code === 'string' && pattern.test(code))?.[1];
  if (!advice) return error;
  return new StartupError(`${failing}: the PostgreSQL server at ${location}: ${String(message)}${typeof code === 'string' ? ` (${code})` : ''}; ${advice}.`);
}
