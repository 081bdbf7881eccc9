import { existsSync } from 'node:fs';
import { CliError, EXIT } from '../../cli-error';

const CANNOT_OPEN = 'Cannot open the database';

/**
 * The database the daemon would use with this environment (KSI_DATABASE_URL, else the SQLite file
 * under KSI_VAR_DIR), migrated. `existing`: refuse to create a SQLite file (a backup run from the
 * wrong folder would otherwise write an empty one). Loaded only by `ksi db`.
 */
export async function openConfiguredStorage({ existing = false } = {}) {
  const { ConfigError, loadConfig } = await import('../../../../src/config/config.js');
  const { openStorage } = await import('../../../../src/database/open-storage.js');
  const { postgresLocation } = await import('../../../../src/database/postgres-connection.js');
  const { postgresStartupFailure, startupFailure, StartupError } = await import('../../../../src/lifecycle/startup-failure.js');
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(EXIT.usage, error.message);
    throw error;
  }
  if (existing && !config.databaseUrl && !existsSync(config.dbPath)) {
    throw new CliError(EXIT.daemonError, `No KSI database at ${config.dbPath}: run this where the daemon runs, or set KSI_VAR_DIR (or KSI_DATABASE_URL) as the daemon has it.`);
  }
  // What it creates (the SQLite file, its folder) is private, as the daemon's is.
  process.umask(0o077);
  try {
    return await openStorage(config);
  } catch (error) {
    const explained = config.databaseUrl ? postgresStartupFailure(error, postgresLocation(config.databaseUrl), CANNOT_OPEN) : startupFailure(error, config.dbPath, CANNOT_OPEN);
    throw new CliError(EXIT.daemonError, explained instanceof StartupError ? explained.message : `${CANNOT_OPEN}: ${(error as Error).message}`);
  }
}
