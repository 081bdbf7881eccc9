import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Agents1764010000000 implements MigrationInterface {
  async up(runner: QueryRunner): Promise<void> {
    await runner.query(
      `CREATE TABLE "agents" ("agent_id" text PRIMARY KEY NOT NULL, "profile" text NOT NULL, "status" text NOT NULL, "session_id" text, "config" text NOT NULL, "sandbox_dir" text, "mcp_config_path" text, "restarts" integer NOT NULL, "created_at" real NOT NULL)`,
    );
    await runner.query(
      `CREATE TABLE "agent_messages" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "agent_id" text NOT NULL, "message" text NOT NULL, "status" text NOT NULL, "request_id" text, "created_at" real NOT NULL)`,
    );
    await runner.query(`CREATE INDEX "idx_agent_messages_inbox" ON "agent_messages" ("agent_id", "status", "id") `);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP INDEX "idx_agent_messages_inbox"`);
    await runner.query(`DROP TABLE "agent_messages"`);
    await runner.query(`DROP TABLE "agents"`);
  }
}
