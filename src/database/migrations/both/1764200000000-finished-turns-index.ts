import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Conversations are read a page of finished turns at a time, in the order they finished (see CompletionRepository.finishedTurns). */
export class FinishedTurnsIndex1764200000000 implements MigrationInterface {
  async up(runner: QueryRunner): Promise<void> {
    await runner.query(
      `CREATE INDEX "idx_completion_requests_finished" ON "completion_requests" ("completed_at", "seq") WHERE status = 'completed' AND result_session_id IS NOT NULL`,
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP INDEX "idx_completion_requests_finished"`);
  }
}
