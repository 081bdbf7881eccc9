import { createHash } from 'node:crypto';
import { Client } from 'pg';

/** Which database the suite's daemons run on: the postgres Jest project sets KSI_TEST_BACKEND=postgres. */
export const testBackend = (): 'sqlite' | 'postgres' => (process.env.KSI_TEST_BACKEND === 'postgres' ? 'postgres' : 'sqlite');

/** The throwaway cluster (or KSI_TEST_DATABASE_URL's server), one database per daemon. */
export class TestCluster {
  constructor(private readonly adminUrl: string) {}

  /** Creates the database unless it is there; resolves with its URL. */
  async createDatabase(name: string): Promise<string> {
    await this.admin(async (client) => {
      try {
        await client.query(`CREATE DATABASE "${name}"`);
      } catch (error) {
        if ((error as { code?: string }).code !== '42P04') throw error;
      }
    });
    return this.urlOf(name);
  }

  async dropDatabase(name: string): Promise<void> {
    await this.admin((client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
  }

  urlOf(name: string): string {
    return this.adminUrl.replace(/^(postgres(?:ql)?:\/\/[^/?]*\/)[^?]*/, `$1${name}`);
  }

  private async admin<T>(work: (client: Client) => Promise<T>): Promise<T> {
    const client = new Client({ connectionString: this.adminUrl });
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end();
    }
  }
}

/** The cluster the postgres project's tests use; undefined on the SQLite run. */
export function postgresCluster(): TestCluster | undefined {
  const url = process.env.KSI_TEST_DATABASE_URL;
  return testBackend() === 'postgres' && url ? new TestCluster(url) : undefined;
}

/** A daemon's database, named after its var dir so that a restart on the same var dir finds its data. */
export const databaseNameOf = (varDir: string): string => `ksi_${createHash('sha256').update(varDir).digest('hex').slice(0, 20)}`;

/** The environment that points a daemon on `varDir` at its own database: nothing on SQLite. */
export async function databaseEnv(varDir: string): Promise<Record<string, string>> {
  const cluster = postgresCluster();
  return cluster ? { KSI_DATABASE_URL: await cluster.createDatabase(databaseNameOf(varDir)) } : {};
}

/** Drops the database `databaseEnv` made for `varDir`. */
export async function dropDatabase(varDir: string): Promise<void> {
  await postgresCluster()?.dropDatabase(databaseNameOf(varDir));
}
