import { Injectable } from '@nestjs/common';
import { sql } from '../../database/sql-statement';
import { Storage } from '../../database/storage';
import type { ClusterNode } from './cluster-node.entity';

const NODE = `node_id AS "nodeId", host, pid, var_dir AS "varDir", socket, version, started_at AS "startedAt", heartbeat_at AS "heartbeatAt", lease_ttl_ms AS "leaseTtlMs", stopped_at AS "stoppedAt"`;

const statements = {
  register: sql(
    `INSERT INTO cluster_nodes (node_id, host, pid, var_dir, socket, version, started_at, heartbeat_at, lease_ttl_ms, stopped_at)
     VALUES (@nodeId, @host, @pid, @varDir, @socket, @version, @startedAt, @heartbeatAt, @leaseTtlMs, NULL)
     ON CONFLICT (node_id) DO UPDATE SET host = excluded.host, pid = excluded.pid, var_dir = excluded.var_dir, socket = excluded.socket,
       version = excluded.version, started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at, lease_ttl_ms = excluded.lease_ttl_ms, stopped_at = NULL`,
  ),
  beat: sql('UPDATE cluster_nodes SET heartbeat_at = ? WHERE node_id = ?'),
  stopped: sql('UPDATE cluster_nodes SET stopped_at = ? WHERE node_id = ?'),
  all: sql(`SELECT ${NODE} FROM cluster_nodes ORDER BY started_at`),
  forget: sql('DELETE FROM cluster_nodes WHERE heartbeat_at < ? AND node_id <> ?'),
};

/** Every query of cluster_nodes: one row per node that ever shared the database, until it is forgotten. Times are epoch ms. */
@Injectable()
export class ClusterNodeRepository {
  constructor(private readonly storage: Storage) {}

  /** This node's row as it starts: a node restarting under its id takes its row over. */
  async register(node: Omit<ClusterNode, 'stoppedAt'>): Promise<void> {
    await this.storage.writeStatement(statements.register, node);
  }

  async beat(nodeId: string, now: number): Promise<void> {
    await this.storage.writeStatement(statements.beat, [now, nodeId]);
  }

  async stopped(nodeId: string, now: number): Promise<void> {
    await this.storage.writeStatement(statements.stopped, [now, nodeId]);
  }

  all(): Promise<ClusterNode[]> {
    return this.storage.all<ClusterNode>(statements.all);
  }

  /** Nodes silent since `before` are no longer listed. */
  async forget(before: number, nodeId: string): Promise<void> {
    await this.storage.writeStatement(statements.forget, [before, nodeId]);
  }
}
