import { createHash } from 'node:crypto';
import { PostgresServer } from '../../bench/postgres-cluster';

/** Which database the suite's daemons run on: the postgres Jest project sets KSI_TEST_BACKEND=postgres. */
export const testBackend = (): 'sqlite' | 'postgres' => (process.env.KSI_TEST_BACKEND === 'postgres' ? 'postgres' : 'sqlite');

/** The cluster the postgres project's tests use; undefined on the SQLite run. */
export function postgresCluster(): PostgresServer | undefined {
  const url = process.env.KSI_TEST_DATABASE_URL;
  return testBackend() === 'postgres' && url ? new PostgresServer(url) : undefined;
}

/** A daemon's database, named after its var dir so that a restart on the same var dir finds its data. */
export const databaseNameOf = (varDir: string): string => `ksi_${createHash('sha256').update(varDir).digest('hex').slice(0, 20)}`;

const creating = new Map<string, Promise<string>>();

/** The environment that points a daemon on `varDir` at its own database: nothing on SQLite. */
export async function databaseEnv(varDir: string): Promise<Record<string, string>> {
  const cluster = postgresCluster();
  if (!cluster) return {};
  // Daemons started together on one var dir ask for the same database at once.
  const name = databaseNameOf(varDir);
  let created = creating.get(name);
  if (!created) creating.set(name, (created = cluster.createDatabase(name).finally(() => creating.delete(name))));
  return { KSI_DATABASE_URL: await created };
}

/** Drops the database `databaseEnv` made for `varDir`. */
export async function dropDatabase(varDir: string): Promise<void> {
  await postgresCluster()?.dropDatabase(databaseNameOf(varDir));
}
