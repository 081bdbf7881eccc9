import type { MigrationInterface, QueryRunner } from 'typeorm';

const META = ['event_id', 'parent_id', 'correlation_id', 'event_name', 'client_id', 'agent_id', 'session_id', 'source', 'outcome', 'duration_ms'];
const virtualColumns = META.map((name, index) => `"${name}" ${name === 'duration_ms' ? 'real' : 'text'} AS (meta ->> ${index}) VIRTUAL`).join(', ');

/** AUTOINCREMENT's counter of the old table carries over, so ids of deleted rows are never reused. */
async function keepIdCounter(runner: QueryRunner, from: string, to: string): Promise<void> {
  await runner.query(`UPDATE sqlite_sequence SET seq = MAX(seq, COALESCE((SELECT seq FROM sqlite_sequence WHERE name = ?), 0)) WHERE name = ?`, [from, to]);
  await runner.query(`INSERT INTO sqlite_sequence (name, seq) SELECT ?, seq FROM sqlite_sequence WHERE name = ? AND NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = ?)`, [to, from, to]);
}

/**
 * The event log binds three values per row instead of twelve (inserts were most of the daemon's
 * time under load); the other columns are computed from a JSON array when read. Keeps every row.
 */
export class CompactEventLog1764040000000 implements MigrationInterface {
  async up(runner: QueryRunner): Promise<void> {
    await runner.query(
      `CREATE TABLE "event_log_compact" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "timestamp" real NOT NULL, "meta" text NOT NULL, "data" text NOT NULL, ${virtualColumns})`,
    );
    await runner.query(`INSERT INTO "event_log_compact" ("id", "timestamp", "meta", "data") SELECT "id", "timestamp", json_array(${META.map((name) => `"${name}"`).join(', ')}), "data" FROM "event_log"`);
    await keepIdCounter(runner, 'event_log', 'event_log_compact');
    await runner.query(`DROP INDEX "idx_event_log_timestamp"`);
    await runner.query(`DROP TABLE "event_log"`);
    await runner.query(`ALTER TABLE "event_log_compact" RENAME TO "event_log"`);
    await runner.query(`CREATE INDEX "idx_event_log_timestamp" ON "event_log" ("timestamp") `);
    // TypeORM keeps generated columns' expressions here; it creates the table only when it runs with the entities.
    await runner.query(`CREATE TABLE IF NOT EXISTS "typeorm_metadata" ("type" varchar NOT NULL, "database" varchar, "schema" varchar, "table" varchar, "name" varchar, "value" text)`);
    for (const [index, name] of META.entries()) {
      await runner.query(`INSERT INTO "typeorm_metadata"("database", "schema", "table", "type", "name", "value") VALUES (NULL, NULL, 'event_log', 'GENERATED_COLUMN', ?, ?)`, [name, `meta ->> ${index}`]);
    }
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DELETE FROM "typeorm_metadata" WHERE "table" = 'event_log' AND "type" = 'GENERATED_COLUMN'`);
    await runner.query(
      `CREATE TABLE "event_log_wide" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "event_id" text NOT NULL, "parent_id" text, "correlation_id" text, "event_name" text NOT NULL, "timestamp" real NOT NULL, "client_id" text, "agent_id" text, "session_id" text, "source" text NOT NULL, "outcome" text, "duration_ms" real, "data" text NOT NULL)`,
    );
    await runner.query(`INSERT INTO "event_log_wide" ("id", "timestamp", "data", ${META.map((name) => `"${name}"`).join(', ')}) SELECT "id", "timestamp", "data", ${META.map((name) => `"${name}"`).join(', ')} FROM "event_log"`);
    await keepIdCounter(runner, 'event_log', 'event_log_wide');
    await runner.query(`DROP INDEX "idx_event_log_timestamp"`);
    await runner.query(`DROP TABLE "event_log"`);
    await runner.query(`ALTER TABLE "event_log_wide" RENAME TO "event_log"`);
    await runner.query(`CREATE INDEX "idx_event_log_timestamp" ON "event_log" ("timestamp") `);
  }
}
