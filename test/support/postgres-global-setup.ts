import { startPostgresCluster, type PostgresCluster } from '../../bench/postgres-cluster';

/** Starts the throwaway cluster for the postgres project, unless KSI_TEST_DATABASE_URL names a server. */
export default function setup(): void {
  if (process.env.KSI_TEST_DATABASE_URL) return;
  const cluster = startPostgresCluster();
  process.env.KSI_TEST_DATABASE_URL = cluster.url;
  (globalThis as { ksiPostgresCluster?: PostgresCluster }).ksiPostgresCluster = cluster;
}
