import * as fs from 'node:fs';
import type { PostgresCluster } from '../../bench/postgres-cluster';

/** Lines of the server's log that say a server process died or the server restarted: every test on the cluster failed at that moment. */
const CRASH = /terminated by signal|was terminated|PANIC|terminating any other active server processes|all server processes terminated/;

/** Stops the cluster postgres-global-setup started, first reporting any crash the server logged during the run. */
export default function teardown(): void {
  const cluster = (globalThis as { ksiPostgresCluster?: PostgresCluster }).ksiPostgresCluster;
  if (!cluster) return;
  try {
    const crashes = fs.readFileSync(cluster.logFile, 'utf8').split('\n').filter((line) => CRASH.test(line));
    if (crashes.length > 0) console.error(`The test PostgreSQL cluster crashed during the run (${cluster.logFile}):\n${crashes.join('\n')}`);
  } finally {
    cluster.stop();
  }
}
