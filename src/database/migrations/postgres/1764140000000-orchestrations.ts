import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Orchestration instances and their transcripts, which lived in one daemon's memory before (see OrchestrationRow, OrchestrationTurn). */
export class Orchestrations1764140000000 implements MigrationInterface {
  async up(runner: QueryRunner): Promise<void> {
    await runner.query(
      `CREATE TABLE "orchestrations" ("orchestration_id" text NOT NULL, "pattern" text NOT NULL, "state" text NOT NULL, "reason" text, "agents" text NOT NULL, "turn_order" text NOT NULL, "turn" integer NOT NULL, "rounds" integer NOT NULL, "message_count" integer NOT NULL, "started_at" double precision NOT NULL, "ended_at" double precision, "timeout_at" double precision, "end_event" text, "pending_turn" text, "pending_since" double precision, CONSTRAINT "PK_orchestrations" PRIMARY KEY ("orchestration_id"))`,
    );
    await runner.query(`CREATE INDEX "idx_orchestrations_state" ON "orchestrations" ("state") `);
    await runner.query(
      `CREATE TABLE "orchestration_turns" ("orchestration_id" text NOT NULL, "seq" integer NOT NULL, "agent_id" text NOT NULL, "text" text NOT NULL, "at" double precision NOT NULL, CONSTRAINT "PK_orchestration_turns" PRIMARY KEY ("orchestration_id", "seq"))`,
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE "orchestration_turns"');
    await runner.query('DROP INDEX "idx_orchestrations_state"');
    await runner.query('DROP TABLE "orchestrations"');
  }
}
