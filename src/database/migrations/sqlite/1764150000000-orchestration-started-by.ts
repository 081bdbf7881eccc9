import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Who started each orchestration, so an agent terminates only its own (see OrchestrationRow.startedBy); instances started before are the operator's. */
export class OrchestrationStartedBy1764150000000 implements MigrationInterface {
  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`ALTER TABLE "orchestrations" ADD COLUMN "started_by" text`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`ALTER TABLE "orchestrations" DROP COLUMN "started_by"`);
  }
}
