import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Each node's own KSI_LEASE_TTL_MS, which the others judge its heartbeats by (see ClusterNode.leaseTtlMs); rows from before have none. */
export class ClusterNodeLeaseTtl1764160000000 implements MigrationInterface {
  async up(runner: QueryRunner): Promise<void> {
    await runner.query(`ALTER TABLE "cluster_nodes" ADD "lease_ttl_ms" integer`);
  }

  async down(runner: QueryRunner): Promise<void> {
    await runner.query(`ALTER TABLE "cluster_nodes" DROP COLUMN "lease_ttl_ms"`);
  }
}
