import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The approval inbox and the decisions approvers asked to remember (see Approval, ApprovalRule). */
export class Approvals1764120000000 implements MigrationInterface {
  async up(runner: QueryRunner): Promise<void> {
    await runner.query(
      `CREATE TABLE "approvals" ("approval_id" text NOT NULL, "agent_id" text NOT NULL, "tool_name" text NOT NULL, "input" text NOT NULL, "subject" text NOT NULL, "tool_use_id" text, "status" text NOT NULL, "reason" text, "decided_by" text, "remember" integer NOT NULL, "requested_at" double precision NOT NULL, "timeout_at" double precision NOT NULL, "decided_at" double precision, "answered_at" double precision, CONSTRAINT "PK_8c8da9e9f72fb8d1adf757b8cb9" PRIMARY KEY ("approval_id"))`,
    );
    await runner.query(`CREATE INDEX "idx_approvals_status" ON "approvals" ("status", "requested_at") `);
    await runner.query(`CREATE INDEX "idx_approvals_agent_subject" ON "approvals" ("agent_id", "subject") `);
    await runner.query(
      `CREATE TABLE "approval_rules" ("agent_id" text NOT NULL, "subject" text NOT NULL, "decision" text NOT NULL, "created_at" double precision NOT NULL, CONSTRAINT "PK_7cca70a3c4b891874f1a758b4b0" PRIMARY KEY ("agent_id", "subject"))`,
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE "approval_rules"');
    await runner.query('DROP INDEX "idx_approvals_agent_subject"');
    await runner.query('DROP INDEX "idx_approvals_status"');
    await runner.query('DROP TABLE "approvals"');
  }
}
