import type { MigrationInterface, QueryRunner } from 'typeorm';

export class State1763950000000 implements MigrationInterface {
  async up(runner: QueryRunner): Promise<void> {
    await runner.query(
      `CREATE TABLE "state_entries" ("namespace" text NOT NULL, "key" text NOT NULL, "value" text NOT NULL, "metadata" text, "created_at" real NOT NULL, "updated_at" real NOT NULL, "expires_at" real, PRIMARY KEY ("namespace", "key"))`,
    );
    await runner.query(`CREATE INDEX "idx_state_entries_expires_at" ON "state_entries" ("expires_at") `);
    await runner.query(
      `CREATE TABLE "queue_items" ("id" integer PRIMARY KEY AUTOINCREMENT NOT NULL, "namespace" text NOT NULL, "queue" text NOT NULL, "value" text NOT NULL, "created_at" real NOT NULL)`,
    );
    await runner.query(`CREATE INDEX "idx_queue_items_queue" ON "queue_items" ("namespace", "queue", "id") `);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP INDEX "idx_queue_items_queue"`);
    await runner.query(`DROP TABLE "queue_items"`);
    await runner.query(`DROP INDEX "idx_state_entries_expires_at"`);
    await runner.query(`DROP TABLE "state_entries"`);
  }
}
