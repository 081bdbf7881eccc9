import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Orchestration instances and their transcripts, which lived in one daemon's memory before (see OrchestrationRow, OrchestrationTurn). */
export class Orchestrations1764140000000 implements MigrationInterface {
  async up(runner: QueryRunner): Promise<void> {
    await runner.query(
      `CREATE TABLE "orchestrations" ("orchestration_id" text PRIMARY KEY NOT NULL, "pattern" text NOT NULL, "state" text NOT NULL, "reason" text, "agents" text NOT NULL, "turn_order" text NOT NULL, "turn" integer NOT NULL, "rounds" integer NOT NULL, "message_count" integer NOT NULL, "started_at" real NOT NULL, "ended_at" real, "timeout_at" real, "end_event" text, "pending_turn" text, "pending_since" real)`,
    );
    await runner.query(`CREATE INDEX "idx_orchestrations_state" ON "orchestrations" ("state") `);
    await runner.query(
      `CREATE TABLE "orchestration_turns" ("orchestration_id" text NOT NULL, "seq" integer NOT NULL, "agent_id" text NOT NULL, "text" text NOT NULL, "at" real NOT NULL, PRIMARY KEY ("orchestration_id", "seq"))`,
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP TABLE "orchestration_turns"`);
    await runner.query(`DROP INDEX "idx_orchestrations_state"`);
    await runner.query(`DROP TABLE "orchestrations"`);
  }
}
