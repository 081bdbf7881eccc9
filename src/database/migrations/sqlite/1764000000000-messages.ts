import type { MigrationInterface, QueryRunner } from 'typeorm';

export class Messages1764000000000 implements MigrationInterface {
  async up(runner: QueryRunner): Promise<void> {
    await runner.query(
      `CREATE TABLE "bus_messages" ("id" text PRIMARY KEY NOT NULL, "seq" integer NOT NULL, "type" text NOT NULL, "body" text NOT NULL, "recipient" text, "delivered_at" real, "created_at" real NOT NULL, CONSTRAINT "UQ_ed9156345a6a872d8f91ddf633f" UNIQUE ("seq"))`,
    );
    await runner.query(`CREATE INDEX "idx_bus_messages_pending" ON "bus_messages" ("recipient", "seq") WHERE delivered_at IS NULL AND recipient IS NOT NULL`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP INDEX "idx_bus_messages_pending"`);
    await runner.query(`DROP TABLE "bus_messages"`);
  }
}
