import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import type { Logger } from 'pino';
import { completionRunningByNode, type ClusterNodeInfo } from '../../../libs/client/src';
import { CLOCK, type Clock } from '../../common/clock';
import { KSI_CONFIG, type KsiConfig } from '../../config/config';
import { EventBus } from '../../events/event-bus';
import type { EventContext } from '../../events/event-context';
import { ShutdownHandler } from '../../lifecycle/shutdown-handler.decorator';
import { DAEMON_LOG } from '../../logging/logger';
import type { ClusterNode } from './cluster-node.entity';
import { ClusterNodeRepository } from './cluster-node.repository';

/** Nodes silent this long drop out of the list. */
const FORGET_AFTER_MS = 24 * 60 * 60 * 1000;

/**
 * This daemon as a node of the daemons sharing a PostgreSQL database: registered at start with its
 * KSI_LEASE_TTL_MS, a heartbeat every third of it, marked stopped at a graceful stop. A node is alive
 * while its heartbeat is younger than half its own TTL, suspect until that TTL, then dead (its leases
 * may be taken over, see CompletionLeases): nodes may run with different TTLs, and one judged by
 * another's would be found dead between its heartbeats. On SQLite the daemon is the only node:
 * nothing is written.
 */
@Injectable()
export class ClusterNodes implements OnApplicationBootstrap {
  private timer?: NodeJS.Timeout;
  private readonly startedAt: number;

  constructor(
    @Inject(KSI_CONFIG) private readonly config: KsiConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(DAEMON_LOG) private readonly log: Logger,
    private readonly repo: ClusterNodeRepository,
    private readonly bus: EventBus,
  ) {
    this.startedAt = clock.now();
  }

  private get clustered(): boolean {
    return this.config.node.clustered;
  }

  async onApplicationBootstrap(): Promise<void> {
    if (!this.clustered) return;
    const { node } = this.config;
    const now = this.clock.now();
    await this.repo.register({ nodeId: node.id, host: node.host, pid: process.pid, varDir: this.config.varDir, socket: this.config.socketPath, version: this.config.version, startedAt: this.startedAt, heartbeatAt: now, leaseTtlMs: node.leaseTtlMs });
    await this.repo.forget(now - FORGET_AFTER_MS, node.id);
    this.timer = setInterval(() => void this.beat(), node.leaseTtlMs / 3).unref();
  }

  @ShutdownHandler('cluster')
  async stop(): Promise<void> {
    clearInterval(this.timer);
    if (this.clustered) await this.repo.stopped(this.config.node.id, this.clock.now());
  }

  async list(includeDead: boolean, context: EventContext): Promise<ClusterNodeInfo[]> {
    const now = this.clock.now();
    const [rows, { running }] = await Promise.all([this.clustered ? this.repo.all() : [this.thisNode(now)], this.bus.requestOne(completionRunningByNode, {}, context)]);
    return rows.map((row) => this.describe(row, now, running[row.nodeId] ?? 0)).filter((node) => includeDead || node.status !== 'dead');
  }

  private thisNode(now: number): ClusterNode {
    return { nodeId: this.config.node.id, host: this.config.node.host, pid: process.pid, varDir: this.config.varDir, socket: this.config.socketPath, version: this.config.version, startedAt: this.startedAt, heartbeatAt: now, leaseTtlMs: this.config.node.leaseTtlMs, stoppedAt: null };
  }

  private describe(row: ClusterNode, now: number, running: number): ClusterNodeInfo {
    const age = now - row.heartbeatAt;
    // A row of an older KSI has no TTL: it is judged by this node's, as that KSI judged.
    const ttl = row.leaseTtlMs ?? this.config.node.leaseTtlMs;
    const thisNode = row.nodeId === this.config.node.id;
    const status = thisNode ? 'alive' : row.stoppedAt !== null || age > ttl ? 'dead' : age > ttl / 2 ? 'suspect' : 'alive';
    return {
      node_id: row.nodeId,
      status,
      this_node: thisNode,
      host: row.host,
      pid: row.pid,
      var_dir: row.varDir,
      socket: row.socket,
      version: row.version,
      started_at: row.startedAt / 1000,
      heartbeat_at: row.heartbeatAt / 1000,
      lease_ttl_ms: ttl,
      stopped_at: row.stoppedAt === null ? null : row.stoppedAt / 1000,
      running,
    };
  }

  private async beat(): Promise<void> {
    await this.repo.beat(this.config.node.id, this.clock.now()).catch((error: Error) => this.log.warn({ err: error.message }, 'node heartbeat not written'));
  }
}
