import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The node an agent's request must run on, where the agent's workspace is (see CompletionRequest.runOn). */
export class CompletionRunOn1764150000000 implements MigrationInterface {
  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`ALTER TABLE "completion_requests" ADD COLUMN "run_on" text`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`ALTER TABLE "completion_requests" DROP COLUMN "run_on"`);
  }
}
