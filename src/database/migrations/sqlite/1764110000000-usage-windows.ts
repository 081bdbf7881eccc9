import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Usage windows: each request's account, and the accounts parked until their usage limit resets (see UsageWindowRow). */
export class UsageWindows1764110000000 implements MigrationInterface {
  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`ALTER TABLE "completion_requests" ADD COLUMN "account" text NOT NULL DEFAULT ('claude-cli')`);
    await runner.query(`UPDATE "completion_requests" SET "account" = 'anthropic' WHERE "model" LIKE 'anthropic/%'`);
    await runner.query(`CREATE TABLE "usage_windows" ("account" text PRIMARY KEY NOT NULL, "paused_until" real NOT NULL, "reason" text NOT NULL, "request_id" text NOT NULL)`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP TABLE "usage_windows"`);
    await runner.query(`ALTER TABLE "completion_requests" DROP COLUMN "account"`);
  }
}
