import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The values of `meta`, in their positions, as the compact event log made them columns. */
const META = ['event_id', 'parent_id', 'correlation_id', 'event_name', 'client_id', 'agent_id', 'session_id', 'source', 'outcome', 'duration_ms'];

/**
 * SQLite computes even a virtual column on every insert: the event log's ten, reading one JSON array,
 * more than doubled an insert's cost. The queries read `meta` themselves now (see EventLogRepository).
 * Dropping a virtual column rewrites no row.
 */
export class EventLogWithoutGeneratedColumns1764210000000 implements MigrationInterface {
  async up(runner: QueryRunner): Promise<void> {
    for (const name of META) await runner.query(`ALTER TABLE "event_log" DROP COLUMN "${name}"`);
    await runner.query(`DELETE FROM "typeorm_metadata" WHERE "table" = 'event_log' AND "type" = 'GENERATED_COLUMN'`);
  }

  async down(runner: QueryRunner): Promise<void> {
    for (const [index, name] of META.entries()) {
      await runner.query(`ALTER TABLE "event_log" ADD COLUMN "${name}" ${name === 'duration_ms' ? 'real' : 'text'} AS (meta ->> ${index}) VIRTUAL`);
      await runner.query(`INSERT INTO "typeorm_metadata"("database", "schema", "table", "type", "name", "value") VALUES (NULL, NULL, 'event_log', 'GENERATED_COLUMN', ?, ?)`, [name, `meta ->> ${index}`]);
    }
  }
}
