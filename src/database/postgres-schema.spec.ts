import { DataSource } from 'typeorm';
import { postgresCluster } from '../../test/support/test-database';
import { ENTITIES } from './entities';
import { postgresMigrations } from './migrations/postgres';
import { postgresTypes } from './postgres-connection';
import { adaptEntitiesToPostgres } from './postgres-schema';

const cluster = postgresCluster();

(cluster ? describe : describe.skip)('PostgreSQL schema (a real throwaway cluster)', () => {
  beforeAll(() => adaptEntitiesToPostgres());

  it('the migrations build exactly the schema the entities describe', async () => {
    const url = await cluster!.createDatabase('schema_check');
    const dataSource = new DataSource({ type: 'postgres', url, entities: ENTITIES, migrations: postgresMigrations, extra: { types: postgresTypes() } });
    await dataSource.initialize();
    await dataSource.runMigrations();
    const pending = await dataSource.driver.createSchemaBuilder().log();
    await dataSource.destroy();
    if (process.env.KSI_PRINT_SCHEMA) console.log(JSON.stringify(pending.upQueries));
    expect(pending.upQueries.map((query) => query.query)).toEqual([]);
  });

  // TypeORM's schema builder does not compare an index's condition; PostgreSQL's definition of each index does. (Primary keys it compares, bar their names.)
  it('the migrations build every index the entities describe, conditions included', async () => {
    const indexes = async (database: string, options: { migrations: typeof postgresMigrations; migrationsRun: true } | { entities: typeof ENTITIES; synchronize: true }) => {
      const dataSource = new DataSource({ type: 'postgres', url: await cluster!.createDatabase(database), extra: { types: postgresTypes() }, ...options });
      await dataSource.initialize();
      const rows: { indexdef: string }[] = await dataSource.query(`SELECT pg_get_indexdef(indexrelid) AS indexdef FROM pg_index JOIN pg_class ON pg_class.oid = indexrelid
         WHERE relnamespace = current_schema()::regnamespace AND NOT indisprimary ORDER BY relname`);
      await dataSource.destroy();
      return rows.map(({ indexdef }) => indexdef);
    };
    const described = await indexes('indexes_described', { entities: ENTITIES, synchronize: true });
    expect(described).toContain('CREATE INDEX idx_state_entries_expires_at ON public.state_entries USING btree (expires_at) WHERE (expires_at IS NOT NULL)');
    expect(await indexes('indexes_migrated', { migrations: postgresMigrations, migrationsRun: true })).toEqual(described);
  });
});
