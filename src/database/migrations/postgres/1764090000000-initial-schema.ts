import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The event log's generated columns, as TypeORM records them to compare its entities with the schema. */
const GENERATED_COLUMNS = [
      ['event_id', '(meta)::jsonb ->> 0'],
      ['parent_id', '(meta)::jsonb ->> 1'],
      ['correlation_id', '(meta)::jsonb ->> 2'],
      ['event_name', '(meta)::jsonb ->> 3'],
      ['client_id', '(meta)::jsonb ->> 4'],
      ['agent_id', '(meta)::jsonb ->> 5'],
      ['session_id', '(meta)::jsonb ->> 6'],
      ['source', '(meta)::jsonb ->> 7'],
      ['outcome', '(meta)::jsonb ->> 8'],
      ['duration_ms', '(((meta)::jsonb ->> 9))::double precision'],
];

/**
 * The whole schema of KSI on PostgreSQL as of its first release there, generated from the entities (see postgres-schema.ts and
 * postgres-schema.spec.ts, which checks it against them). Older SQLite databases move over with
 * `ksi db export` / `ksi db import`, not by migration.
 */
export class InitialSchema1764090000000 implements MigrationInterface {
  name = 'InitialSchema1764090000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE "daemon_runs" ("id" SERIAL NOT NULL, "pid" integer NOT NULL, "started_at" double precision NOT NULL, "ended_at" double precision, "shutdown" text, CONSTRAINT "PK_ae8a6725126bcc4415bef7f18a0" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE TABLE "agents" ("agent_id" text NOT NULL, "profile" text NOT NULL, "status" text NOT NULL, "session_id" text, "config" text NOT NULL, "sandbox_dir" text, "mcp_config_path" text, "restarts" integer NOT NULL, "created_at" double precision NOT NULL, CONSTRAINT "PK_3ba3ff16246ffc499a47106d19e" PRIMARY KEY ("agent_id"))`);
    await queryRunner.query(`CREATE TABLE "agent_identities" ("agent_id" text NOT NULL, "identity" text NOT NULL, "created_at" double precision NOT NULL, "updated_at" double precision NOT NULL, CONSTRAINT "PK_89491805bbd4cc7d43e621a762c" PRIMARY KEY ("agent_id"))`);
    await queryRunner.query(`CREATE TABLE "agent_messages" ("id" SERIAL NOT NULL, "agent_id" text NOT NULL, "message" text NOT NULL, "status" text NOT NULL, "request_id" text, "created_at" double precision NOT NULL, "error" text, "error_code" text, "failed_at" double precision, CONSTRAINT "PK_8c7cdeda30e81dba421925df4fe" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE INDEX "idx_agent_messages_inbox" ON "agent_messages" ("agent_id", "status", "id")`);
    await queryRunner.query(`CREATE TABLE "checkpoints" ("id" SERIAL NOT NULL, "created_at" double precision NOT NULL, "reason" text NOT NULL, "data" text NOT NULL, "consumed_at" double precision, "restore" text, CONSTRAINT "PK_dfcc46a91d96ecba8a8dcd8b11c" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE TABLE "completion_requests" ("request_id" text NOT NULL, "seq" integer NOT NULL, "status" text NOT NULL, "queue_key" text NOT NULL, "session_id" text, "result_session_id" text, "priority" integer NOT NULL, "model" text NOT NULL, "payload" text NOT NULL, "attempts" integer NOT NULL, "max_attempts" integer NOT NULL, "next_attempt_at" double precision NOT NULL, "last_error" text, "error_code" text, "result" text, "client_id" text, "agent_id" text, "pid" integer, "queued_at" double precision NOT NULL, "started_at" double precision, "completed_at" double precision, "profile" text, "cost_usd" double precision NOT NULL DEFAULT '0', "input_tokens" integer NOT NULL DEFAULT '0', "output_tokens" integer NOT NULL DEFAULT '0', "cache_read_input_tokens" integer NOT NULL DEFAULT '0', "cache_creation_input_tokens" integer NOT NULL DEFAULT '0', "num_turns" integer NOT NULL DEFAULT '0', "duration_api_ms" integer NOT NULL DEFAULT '0', CONSTRAINT "UQ_e11eb84c3f3178a1cb42fd67c5a" UNIQUE ("seq"), CONSTRAINT "PK_d7d92d0ed96be2d47d2f5129b12" PRIMARY KEY ("request_id"))`);
    await queryRunner.query(`CREATE INDEX "idx_completion_requests_agent" ON "completion_requests" ("agent_id")`);
    await queryRunner.query(`CREATE INDEX "idx_completion_requests_active" ON "completion_requests" ("queue_key", "seq") WHERE status IN ('queued', 'processing')`);
    await queryRunner.query(`CREATE INDEX "idx_completion_requests_runnable" ON "completion_requests" ("status", "next_attempt_at")`);
    await queryRunner.query(`CREATE TABLE "provider_messages" ("id" SERIAL NOT NULL, "session_id" text NOT NULL, "role" text NOT NULL, "content" text NOT NULL, "request_id" text NOT NULL, "created_at" double precision NOT NULL, CONSTRAINT "PK_17e9f61830d9aa68ed4b5d5ae7a" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE INDEX "idx_provider_messages_session" ON "provider_messages" ("session_id", "id")`);
    await queryRunner.query(`CREATE TABLE "session_links" ("session_id" text NOT NULL, "parent_session_id" text, "root_session_id" text NOT NULL, "request_id" text NOT NULL, "created_at" double precision NOT NULL, CONSTRAINT "PK_8f634adc08a30322bed1b624282" PRIMARY KEY ("session_id"))`);
    await queryRunner.query(`CREATE INDEX "idx_session_links_root" ON "session_links" ("root_session_id", "created_at")`);
    await queryRunner.query(`CREATE TABLE "composition_index" ("type" text NOT NULL, "name" text NOT NULL, "version" text NOT NULL, "description" text NOT NULL, "author" text, "extends" text, "role" text, "tags" text NOT NULL, "capabilities" text NOT NULL, "source" text NOT NULL, "file_path" text, "indexed_at" double precision NOT NULL, CONSTRAINT "PK_30f39ecd290483bda15bbbcc106" PRIMARY KEY ("type", "name"))`);
    await queryRunner.query(`CREATE TABLE "dynamic_compositions" ("name" text NOT NULL, "body" text NOT NULL, "created_at" double precision NOT NULL, CONSTRAINT "PK_34c69f0916ca9fec176247294d5" PRIMARY KEY ("name"))`);
    await queryRunner.query(`CREATE TABLE "bus_messages" ("id" text NOT NULL, "seq" integer NOT NULL, "type" text NOT NULL, "body" text NOT NULL, "recipient" text, "delivered_at" double precision, "created_at" double precision NOT NULL, CONSTRAINT "UQ_ed9156345a6a872d8f91ddf633f" UNIQUE ("seq"), CONSTRAINT "PK_3c5331ec8d99e11056b5279a880" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE INDEX "idx_bus_messages_pending" ON "bus_messages" ("recipient", "seq") WHERE delivered_at IS NULL AND recipient IS NOT NULL`);
    await queryRunner.query(`CREATE TABLE "event_log" ("id" SERIAL NOT NULL, "timestamp" double precision NOT NULL, "meta" text NOT NULL, "data" text NOT NULL, "event_id" text GENERATED ALWAYS AS ((meta)::jsonb ->> 0) STORED, "parent_id" text GENERATED ALWAYS AS ((meta)::jsonb ->> 1) STORED, "correlation_id" text GENERATED ALWAYS AS ((meta)::jsonb ->> 2) STORED, "event_name" text GENERATED ALWAYS AS ((meta)::jsonb ->> 3) STORED, "client_id" text GENERATED ALWAYS AS ((meta)::jsonb ->> 4) STORED, "agent_id" text GENERATED ALWAYS AS ((meta)::jsonb ->> 5) STORED, "session_id" text GENERATED ALWAYS AS ((meta)::jsonb ->> 6) STORED, "source" text GENERATED ALWAYS AS ((meta)::jsonb ->> 7) STORED, "outcome" text GENERATED ALWAYS AS ((meta)::jsonb ->> 8) STORED, "duration_ms" double precision GENERATED ALWAYS AS ((((meta)::jsonb ->> 9))::double precision) STORED, CONSTRAINT "PK_d8ccd9b5b44828ea378dd37e691" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE INDEX "idx_event_log_timestamp" ON "event_log" ("timestamp")`);
    await queryRunner.query(`CREATE TABLE "agent_permissions" ("agent_id" text NOT NULL, "level" text NOT NULL, "permissions" text NOT NULL, "parent_id" text, "token_hash" text, "updated_at" double precision NOT NULL, CONSTRAINT "PK_e4ad6e5f039435ae885edd8a6c3" PRIMARY KEY ("agent_id"))`);
    await queryRunner.query(`CREATE TABLE "sandboxes" ("agent_id" text NOT NULL, "path" text NOT NULL, "mode" text NOT NULL, "parent_agent_id" text, "session_id" text, "git_dir" text, "created_at" double precision NOT NULL, CONSTRAINT "PK_d62023405232a0cd45c0bb8a11b" PRIMARY KEY ("agent_id"))`);
    await queryRunner.query(`CREATE TABLE "queue_items" ("id" SERIAL NOT NULL, "namespace" text NOT NULL, "queue" text NOT NULL, "value" text NOT NULL, "created_at" double precision NOT NULL, CONSTRAINT "PK_2245e11ac3517494bacfe932773" PRIMARY KEY ("id"))`);
    await queryRunner.query(`CREATE INDEX "idx_queue_items_queue" ON "queue_items" ("namespace", "queue", "id")`);
    await queryRunner.query(`CREATE TABLE "state_entries" ("namespace" text NOT NULL, "key" text NOT NULL, "value" text NOT NULL, "metadata" text, "created_at" double precision NOT NULL, "updated_at" double precision NOT NULL, "expires_at" double precision, CONSTRAINT "PK_38dd5125e625ac6080888bef304" PRIMARY KEY ("namespace", "key"))`);
    await queryRunner.query(`CREATE INDEX "idx_state_entries_expires_at" ON "state_entries" ("expires_at")`);
    await queryRunner.query(
      'CREATE TABLE IF NOT EXISTS "typeorm_metadata" ("type" character varying NOT NULL, "database" character varying, "schema" character varying, "table" character varying, "name" character varying, "value" text)',
    );
    for (const [name, value] of GENERATED_COLUMNS) {
      await queryRunner.query(
        `INSERT INTO "typeorm_metadata" ("database", "schema", "table", "type", "name", "value") VALUES (current_database(), current_schema(), 'event_log', 'GENERATED_COLUMN', $1, $2)`,
        [name, value],
      );
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DELETE FROM "typeorm_metadata" WHERE "table" = 'event_log' AND "type" = 'GENERATED_COLUMN'`);
    await queryRunner.query('DROP TABLE "state_entries"');
    await queryRunner.query('DROP TABLE "queue_items"');
    await queryRunner.query('DROP TABLE "sandboxes"');
    await queryRunner.query('DROP TABLE "agent_permissions"');
    await queryRunner.query('DROP TABLE "event_log"');
    await queryRunner.query('DROP TABLE "bus_messages"');
    await queryRunner.query('DROP TABLE "dynamic_compositions"');
    await queryRunner.query('DROP TABLE "composition_index"');
    await queryRunner.query('DROP TABLE "session_links"');
    await queryRunner.query('DROP TABLE "provider_messages"');
    await queryRunner.query('DROP TABLE "completion_requests"');
    await queryRunner.query('DROP TABLE "checkpoints"');
    await queryRunner.query('DROP TABLE "agent_messages"');
    await queryRunner.query('DROP TABLE "agent_identities"');
    await queryRunner.query('DROP TABLE "agents"');
    await queryRunner.query('DROP TABLE "daemon_runs"');
  }
}
