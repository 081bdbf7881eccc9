import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Completions1763960000000 implements MigrationInterface {
  async up(runner: QueryRunner): Promise<void> {
    await runner.query(
      `CREATE TABLE "completion_requests" ("request_id" text PRIMARY KEY NOT NULL, "seq" integer NOT NULL, "status" text NOT NULL, "queue_key" text NOT NULL, "session_id" text, "result_session_id" text, "priority" integer NOT NULL, "model" text NOT NULL, "payload" text NOT NULL, "attempts" integer NOT NULL, "max_attempts" integer NOT NULL, "next_attempt_at" real NOT NULL, "last_error" text, "error_code" text, "result" text, "client_id" text, "agent_id" text, "pid" integer, "queued_at" real NOT NULL, "started_at" real, "completed_at" real, CONSTRAINT "UQ_e11eb84c3f3178a1cb42fd67c5a" UNIQUE ("seq"))`,
    );
    await runner.query(`CREATE INDEX "idx_completion_requests_active" ON "completion_requests" ("queue_key", "seq") WHERE status IN ('queued', 'processing')`);
    await runner.query(`CREATE INDEX "idx_completion_requests_runnable" ON "completion_requests" ("status", "next_attempt_at") `);
    await runner.query(
      `CREATE TABLE "session_links" ("session_id" text PRIMARY KEY NOT NULL, "parent_session_id" text, "root_session_id" text NOT NULL, "request_id" text NOT NULL, "created_at" real NOT NULL)`,
    );
    await runner.query(`CREATE INDEX "idx_session_links_root" ON "session_links" ("root_session_id", "created_at") `);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP INDEX "idx_session_links_root"`);
    await runner.query(`DROP TABLE "session_links"`);
    await runner.query(`DROP INDEX "idx_completion_requests_runnable"`);
    await runner.query(`DROP INDEX "idx_completion_requests_active"`);
    await runner.query(`DROP TABLE "completion_requests"`);
  }
}
