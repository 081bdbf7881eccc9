/** Stops the cluster postgres-global-setup started. */
export default function teardown(): void {
  (globalThis as { ksiPostgresCluster?: { stop(): void } }).ksiPostgresCluster?.stop();
}
