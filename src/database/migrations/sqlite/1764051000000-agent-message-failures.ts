import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Why an agent's message failed and when, so failed turns can be shown and retried. */
export class AgentMessageFailures1764051000000 implements MigrationInterface {
  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`ALTER TABLE "agent_messages" ADD COLUMN "error" text`);
    await runner.query(`ALTER TABLE "agent_messages" ADD COLUMN "error_code" text`);
    await runner.query(`ALTER TABLE "agent_messages" ADD COLUMN "failed_at" real`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`ALTER TABLE "agent_messages" DROP COLUMN "failed_at"`);
    await runner.query(`ALTER TABLE "agent_messages" DROP COLUMN "error_code"`);
    await runner.query(`ALTER TABLE "agent_messages" DROP COLUMN "error"`);
  }
}
