import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The conversations the Anthropic Messages API provider continues (see ProviderMessage). */
export class ProviderMessages1764070000000 implements MigrationInterface {
  async up(runner: QueryRunner): Promise<void> {
    await runner.query(
      `CREATE TABLE "provider_messages" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "session_id" text NOT NULL, "role" text NOT NULL, "content" text NOT NULL, "request_id" text NOT NULL, "created_at" real NOT NULL)`,
    );
    await runner.query(`CREATE INDEX "idx_provider_messages_session" ON "provider_messages" ("session_id", "id") `);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP INDEX "idx_provider_messages_session"`);
    await runner.query(`DROP TABLE "provider_messages"`);
  }
}
