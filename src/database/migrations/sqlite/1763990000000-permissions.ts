import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Permissions1763990000000 implements MigrationInterface {
  async up(runner: QueryRunner): Promise<void> {
    await runner.query(
      `CREATE TABLE "agent_permissions" ("agent_id" text PRIMARY KEY NOT NULL, "level" text NOT NULL, "permissions" text NOT NULL, "parent_id" text, "token_hash" text, "updated_at" real NOT NULL)`,
    );
    await runner.query(
      `CREATE TABLE "sandboxes" ("agent_id" text PRIMARY KEY NOT NULL, "path" text NOT NULL, "mode" text NOT NULL, "parent_agent_id" text, "session_id" text, "created_at" real NOT NULL)`,
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP TABLE "sandboxes"`);
    await runner.query(`DROP TABLE "agent_permissions"`);
  }
}
