import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Nodes, leases on running requests, and each node's own runs and checkpoints (see ClusterNode, CompletionRequest.owner). */
export class Cluster1764130000000 implements MigrationInterface {
  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`ALTER TABLE "daemon_runs" ADD COLUMN "node_id" text`);
    await runner.query(`ALTER TABLE "agents" ADD COLUMN "owner" text`);
    await runner.query(`ALTER TABLE "checkpoints" ADD COLUMN "node_id" text`);
    await runner.query(`ALTER TABLE "completion_requests" ADD COLUMN "cause" text`);
    await runner.query(`ALTER TABLE "completion_requests" ADD COLUMN "accepted_by" text`);
    await runner.query(`ALTER TABLE "completion_requests" ADD COLUMN "owner" text`);
    await runner.query(`ALTER TABLE "completion_requests" ADD COLUMN "lease_epoch" integer NOT NULL DEFAULT (0)`);
    await runner.query(`ALTER TABLE "completion_requests" ADD COLUMN "lease_expires_at" real`);
    await runner.query(`CREATE UNIQUE INDEX "idx_completion_requests_one_running" ON "completion_requests" ("queue_key") WHERE status = 'processing'`);
    await runner.query(
      `CREATE TABLE "cluster_nodes" ("node_id" text PRIMARY KEY NOT NULL, "host" text NOT NULL, "pid" integer NOT NULL, "var_dir" text NOT NULL, "socket" text NOT NULL, "version" text NOT NULL, "started_at" real NOT NULL, "heartbeat_at" real NOT NULL, "stopped_at" real)`,
    );
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`DROP TABLE "cluster_nodes"`);
    await runner.query(`DROP INDEX "idx_completion_requests_one_running"`);
    for (const column of ['lease_expires_at', 'lease_epoch', 'owner', 'accepted_by', 'cause']) await runner.query(`ALTER TABLE "completion_requests" DROP COLUMN "${column}"`);
    await runner.query(`ALTER TABLE "checkpoints" DROP COLUMN "node_id"`);
    await runner.query(`ALTER TABLE "daemon_runs" DROP COLUMN "node_id"`);
    await runner.query(`ALTER TABLE "agents" DROP COLUMN "owner"`);
  }
}
