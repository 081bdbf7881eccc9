import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Usage windows: each request's account, and the accounts parked until their usage limit resets (see UsageWindowRow). */
export class UsageWindows1764110000000 implements MigrationInterface {
  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`ALTER TABLE "completion_requests" ADD "account" text NOT NULL DEFAULT 'claude-cli'`);
    await runner.query(`UPDATE "completion_requests" SET "account" = 'anthropic' WHERE "model" LIKE 'anthropic/%'`);
    await runner.query(
      `CREATE TABLE "usage_windows" ("account" text NOT NULL, "paused_until" double precision NOT NULL, "reason" text NOT NULL, "request_id" text NOT NULL, CONSTRAINT "PK_6736cd619d6658c66ee20671999" PRIMARY KEY ("account"))`,
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE "usage_windows"');
    await runner.query('ALTER TABLE "completion_requests" DROP COLUMN "account"');
  }
}
