import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Conversation reads find a chain's turns by the session each returned (see CompletionRequest.resultSessionId). */
export class CompletionResultSession1764180000000 implements MigrationInterface {
  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`CREATE INDEX "idx_completion_requests_result_session" ON "completion_requests" ("result_session_id")`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP INDEX "idx_completion_requests_result_session"`);
  }
}
