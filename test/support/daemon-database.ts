import Database from 'better-sqlite3';
import * as path from 'node:path';
import { Client } from 'pg';
import { postgresTypes } from '../../src/database/postgres-connection';
import { toPostgres } from '../../src/database/sql-statement';
import { databaseNameOf, postgresCluster } from './test-database';

/**
 * Runs one statement (SQLite's spelling, `?` placeholders, SQL both dialects take) on the database of
 * the stopped daemon of `varDir`, on whichever backend the suite runs; resolves with its rows. For
 * tests that check what was stored, or plant what no request can.
 */
export async function onDaemonDatabase<R>(varDir: string, text: string, params: unknown[] = []): Promise<R[]> {
  const cluster = postgresCluster();
  if (!cluster) {
    const db = new Database(path.join(varDir, 'db', 'ksi.db'));
    try {
      const statement = db.prepare(text);
      if (statement.reader) return statement.all(...params) as R[];
      statement.run(...params);
      return [];
    } finally {
      db.close();
    }
  }
  const client = new Client({ connectionString: cluster.urlOf(databaseNameOf(varDir)), types: postgresTypes() });
  await client.connect();
  try {
    return (await client.query(toPostgres(text).text, params)).rows as R[];
  } finally {
    await client.end();
  }
}
