import { Pool } from 'pg';
import { postgresCluster } from '../../test/support/test-database';
import { postgresTypes } from './postgres-connection';
import { PostgresStorage } from './postgres-storage';
import { sql } from './sql-statement';

const cluster = postgresCluster();

(cluster ? describe : describe.skip)('PostgresStorage.write (a real throwaway cluster)', () => {
  let pool: Pool;
  let storage: PostgresStorage;
  const insert = sql('INSERT INTO t (v) VALUES (?)');
  const all = sql('SELECT v FROM t ORDER BY id');

  beforeAll(async () => {
    pool = new Pool({ connectionString: await cluster!.createDatabase('storage_write'), types: postgresTypes() });
    await pool.query('CREATE TABLE t (id serial PRIMARY KEY, v text UNIQUE)');
    storage = new PostgresStorage(pool, 'test');
  });
  afterAll(async () => {
    await pool.end();
    await cluster!.dropDatabase('storage_write');
  });
  beforeEach(() => pool.query('TRUNCATE t'));

  it('commits jobs queued together in order, resolving after the commit', async () => {
    const jobs = Array.from({ length: 20 }, (_, i) => storage.write((tx) => tx.run(insert, [`v${i}`])));
    expect(await Promise.all(jobs)).toEqual(Array.from({ length: 20 }, () => 1));
    expect(await storage.column(all)).toEqual(Array.from({ length: 20 }, (_, i) => `v${i}`));
  });

  it('fails only the job that fails, and keeps the others in their order', async () => {
    const results = await Promise.allSettled([
      storage.write((tx) => tx.run(insert, ['kept'])),
      storage.write(async (tx) => {
        await tx.run(insert, ['undone']);
        throw new Error('job failed');
      }),
      storage.write((tx) => tx.run(insert, ['kept'])),
      storage.write((tx) => tx.run(insert, ['also kept'])),
    ]);
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled']);
    expect(await storage.column(all)).toEqual(['kept', 'also kept']);
  });
});
