import { CliError, EXIT } from '../../cli-error';

/** The database the daemon would use with this environment (KSI_DATABASE_URL, else the SQLite file under KSI_VAR_DIR), migrated. Loaded only by `ksi db`. */
export async function openConfiguredStorage() {
  const { ConfigError, loadConfig } = await import('../../../../src/config/config.js');
  const { openStorage } = await import('../../../../src/database/open-storage.js');
  try {
    return await openStorage(loadConfig());
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(EXIT.usage, error.message);
    throw new CliError(EXIT.daemonError, `Cannot open the database: ${(error as Error).message}`);
  }
}
