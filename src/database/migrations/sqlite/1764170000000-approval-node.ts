import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The node each approval request was asked on, so only a call there joins it (see Approval.nodeId); older requests have none. */
export class ApprovalNode1764170000000 implements MigrationInterface {
  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`ALTER TABLE "approvals" ADD COLUMN "node_id" text`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`ALTER TABLE "approvals" DROP COLUMN "node_id"`);
  }
}
