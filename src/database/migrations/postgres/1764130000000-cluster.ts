import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Nodes, leases on running requests, and each node's own runs and checkpoints (see ClusterNode,
 * CompletionRequest.owner). Nodes accept requests and publish messages at once, so their order comes
 * from sequences rather than MAX(seq) + 1.
 */
export class Cluster1764130000000 implements MigrationInterface {
  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`ALTER TABLE "daemon_runs" ADD "node_id" text`);
    await runner.query(`ALTER TABLE "agents" ADD "owner" text`);
    await runner.query(`ALTER TABLE "checkpoints" ADD "node_id" text`);
    await runner.query(`ALTER TABLE "completion_requests" ADD "cause" text`);
    await runner.query(`ALTER TABLE "completion_requests" ADD "accepted_by" text`);
    await runner.query(`ALTER TABLE "completion_requests" ADD "owner" text`);
    await runner.query(`ALTER TABLE "completion_requests" ADD "lease_epoch" integer NOT NULL DEFAULT '0'`);
    await runner.query(`ALTER TABLE "completion_requests" ADD "lease_expires_at" double precision`);
    await runner.query(`CREATE UNIQUE INDEX "idx_completion_requests_one_running" ON "completion_requests" ("queue_key") WHERE status = 'processing'`);
    await runner.query(`CREATE SEQUENCE "completion_requests_seq" OWNED BY "completion_requests"."seq"`);
    await runner.query(`SELECT setval('completion_requests_seq', COALESCE((SELECT MAX(seq) FROM completion_requests), 0) + 1, false)`);
    await runner.query(`CREATE SEQUENCE "bus_messages_seq" OWNED BY "bus_messages"."seq"`);
    await runner.query(`SELECT setval('bus_messages_seq', COALESCE((SELECT MAX(seq) FROM bus_messages), 0) + 1, false)`);
    await runner.query(
      `CREATE TABLE "cluster_nodes" ("node_id" text NOT NULL, "host" text NOT NULL, "pid" integer NOT NULL, "var_dir" text NOT NULL, "socket" text NOT NULL, "version" text NOT NULL, "started_at" double precision NOT NULL, "heartbeat_at" double precision NOT NULL, "stopped_at" double precision, CONSTRAINT "PK_cluster_nodes" PRIMARY KEY ("node_id"))`,
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query('DROP TABLE "cluster_nodes"');
    await runner.query('DROP SEQUENCE "bus_messages_seq"');
    await runner.query('DROP SEQUENCE "completion_requests_seq"');
    await runner.query('DROP INDEX "idx_completion_requests_one_running"');
    for (const column of ['lease_expires_at', 'lease_epoch', 'owner', 'accepted_by', 'cause']) await runner.query(`ALTER TABLE "completion_requests" DROP COLUMN "${column}"`);
    await runner.query(`ALTER TABLE "checkpoints" DROP COLUMN "node_id"`);
    await runner.query(`ALTER TABLE "daemon_runs" DROP COLUMN "node_id"`);
    await runner.query(`ALTER TABLE "agents" DROP COLUMN "owner"`);
  }
}
