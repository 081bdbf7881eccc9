import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Only values with an expiry are in the expiry index: most have none, and a write to one of those no
 * longer updates an index entry (measured on SQLite: a batch of eight upserts costs half as much).
 */
export class StateExpiryIndex1764190000000 implements MigrationInterface {
  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP INDEX "idx_state_entries_expires_at"`);
    await runner.query(`CREATE INDEX "idx_state_entries_expires_at" ON "state_entries" ("expires_at") WHERE "expires_at" IS NOT NULL`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP INDEX "idx_state_entries_expires_at"`);
    await runner.query(`CREATE INDEX "idx_state_entries_expires_at" ON "state_entries" ("expires_at")`);
  }
}
