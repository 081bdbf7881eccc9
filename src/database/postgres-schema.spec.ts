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
});
