import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A budget check adds up what was spent in its period on every attempt: these indexes give it the
 * requests finished in the period (as a whole, of an agent, of a profile) without reading the table
 * (see CostRepository.spent).
 */
export class BudgetSpendingIndexes1764220000000 implements MigrationInterface {
  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP INDEX "idx_completion_requests_agent"`);
    await runner.query(`CREATE INDEX "idx_completion_requests_agent" ON "completion_requests" ("agent_id", "completed_at", "cost_usd")`);
    await runner.query(`CREATE INDEX "idx_completion_requests_profile" ON "completion_requests" ("profile", "completed_at", "cost_usd")`);
    await runner.query(`CREATE INDEX "idx_completion_requests_completed" ON "completion_requests" ("completed_at", "cost_usd")`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP INDEX "idx_completion_requests_completed"`);
    await runner.query(`DROP INDEX "idx_completion_requests_profile"`);
    await runner.query(`DROP INDEX "idx_completion_requests_agent"`);
    await runner.query(`CREATE INDEX "idx_completion_requests_agent" ON "completion_requests" ("agent_id")`);
  }
}
