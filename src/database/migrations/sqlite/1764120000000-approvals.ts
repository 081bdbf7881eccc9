import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The approval inbox and the decisions approvers asked to remember (see Approval, ApprovalRule). */
export class Approvals1764120000000 implements MigrationInterface {
  async up(runner: QueryRunner): Promise<void> {
    await runner.query(
      `CREATE TABLE "approvals" ("approval_id" text PRIMARY KEY NOT NULL, "agent_id" text NOT NULL, "tool_name" text NOT NULL, "input" text NOT NULL, "subject" text NOT NULL, "tool_use_id" text, "status" text NOT NULL, "reason" text, "decided_by" text, "remember" integer NOT NULL, "requested_at" real NOT NULL, "timeout_at" real NOT NULL, "decided_at" real, "answered_at" real)`,
    );
    await runner.query(`CREATE INDEX "idx_approvals_status" ON "approvals" ("status", "requested_at") `);
    await runner.query(`CREATE INDEX "idx_approvals_agent_subject" ON "approvals" ("agent_id", "subject") `);
    await runner.query(`CREATE TABLE "approval_rules" ("agent_id" text NOT NULL, "subject" text NOT NULL, "decision" text NOT NULL, "created_at" real NOT NULL, PRIMARY KEY ("agent_id", "subject"))`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP TABLE "approval_rules"`);
    await runner.query(`DROP INDEX "idx_approvals_agent_subject"`);
    await runner.query(`DROP INDEX "idx_approvals_status"`);
    await runner.query(`DROP TABLE "approvals"`);
  }
}
