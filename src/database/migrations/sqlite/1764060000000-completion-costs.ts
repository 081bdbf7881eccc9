import type { MigrationInterface, QueryRunner } from 'typeorm';

const COUNTERS: [column: string, type: 'real' | 'integer', recorded: string][] = [
  ['cost_usd', 'real', '$.response.total_cost_usd'],
  ['input_tokens', 'integer', '$.response.usage.input_tokens'],
  ['output_tokens', 'integer', '$.response.usage.output_tokens'],
  ['cache_read_input_tokens', 'integer', '$.response.usage.cache_read_input_tokens'],
  ['cache_creation_input_tokens', 'integer', '$.response.usage.cache_creation_input_tokens'],
  ['num_turns', 'integer', '$.response.num_turns'],
  ['duration_api_ms', 'integer', '$.response.duration_api_ms'],
];

/**
 * What each completion cost, and the agent profile it ran for. Completed requests accepted before
 * kept the CLI's result verbatim: their costs are read from it, and their agent's profile from the
 * agents still known.
 */
export class CompletionCosts1764060000000 implements MigrationInterface {
  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`ALTER TABLE "completion_requests" ADD COLUMN "profile" text`);
    for (const [column, type] of COUNTERS) await runner.query(`ALTER TABLE "completion_requests" ADD COLUMN "${column}" ${type} NOT NULL DEFAULT (0)`);
    await runner.query(`CREATE INDEX "idx_completion_requests_agent" ON "completion_requests" ("agent_id") `);
    const fromResult = COUNTERS.map(([column, , recorded]) => `"${column}" = COALESCE(json_extract("result", '${recorded}'), 0)`).join(', ');
    await runner.query(`UPDATE "completion_requests" SET ${fromResult} WHERE "result" IS NOT NULL AND json_valid("result")`);
    await runner.query(`UPDATE "completion_requests" SET "profile" = (SELECT "profile" FROM "agents" WHERE "agents"."agent_id" = "completion_requests"."agent_id") WHERE "agent_id" IS NOT NULL`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP INDEX "idx_completion_requests_agent"`);
    for (const [column] of [...COUNTERS].reverse()) await runner.query(`ALTER TABLE "completion_requests" DROP COLUMN "${column}"`);
    await runner.query(`ALTER TABLE "completion_requests" DROP COLUMN "profile"`);
  }
}
