import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The values of `meta`, in their positions, as the first schema stored them. */
const META = ['event_id', 'parent_id', 'correlation_id', 'event_name', 'client_id', 'agent_id', 'session_id', 'source', 'outcome', 'duration_ms'];
const expressionOf = (name: string, index: number) => (name === 'duration_ms' ? `(((meta)::jsonb ->> ${index}))::double precision` : `(meta)::jsonb ->> ${index}`);

/**
 * The event log's ten stored columns, each read out of `meta` as jsonb on every insert, more than
 * doubled an insert's cost. The queries read `meta` themselves now (see EventLogRepository).
 * Dropping a column rewrites no row.
 */
export class EventLogWithoutGeneratedColumns1764210000000 implements MigrationInterface {
  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`ALTER TABLE "event_log" ${META.map((name) => `DROP COLUMN "${name}"`).join(', ')}`);
    await runner.query(`DELETE FROM "typeorm_metadata" WHERE "table" = 'event_log' AND "type" = 'GENERATED_COLUMN'`);
  }

  async down(runner: QueryRunner): Promise<void> {
    const columns = META.map((name, index) => `ADD "${name}" ${name === 'duration_ms' ? 'double precision' : 'text'} GENERATED ALWAYS AS (${expressionOf(name, index)}) STORED`);
    await runner.query(`ALTER TABLE "event_log" ${columns.join(', ')}`);
    for (const [index, name] of META.entries()) {
      await runner.query(
        `INSERT INTO "typeorm_metadata" ("database", "schema", "table", "type", "name", "value") VALUES (current_database(), current_schema(), 'event_log', 'GENERATED_COLUMN', $1, $2)`,
        [name, expressionOf(name, index)],
      );
    }
  }
}
