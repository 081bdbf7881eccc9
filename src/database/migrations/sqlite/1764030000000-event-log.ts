import type { MigrationInterface, QueryRunner } from 'typeorm';

export class EventLog1764030000000 implements MigrationInterface {
  async up(runner: QueryRunner): Promise<void> {
    await runner.query(
      `CREATE TABLE "event_log" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "event_id" text NOT NULL, "parent_id" text, "correlation_id" text, "event_name" text NOT NULL, "timestamp" real NOT NULL, "client_id" text, "agent_id" text, "session_id" text, "source" text NOT NULL, "outcome" text, "duration_ms" real, "data" text NOT NULL)`,
    );
    await runner.query(`CREATE INDEX "idx_event_log_timestamp" ON "event_log" ("timestamp") `);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP INDEX "idx_event_log_timestamp"`);
    await runner.query(`DROP TABLE "event_log"`);
  }
}
