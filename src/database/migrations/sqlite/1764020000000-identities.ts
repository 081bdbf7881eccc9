import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Identities1764020000000 implements MigrationInterface {
  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`CREATE TABLE "agent_identities" ("agent_id" text PRIMARY KEY NOT NULL, "identity" text NOT NULL, "created_at" real NOT NULL, "updated_at" real NOT NULL)`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP TABLE "agent_identities"`);
  }
}
