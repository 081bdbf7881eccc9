import { Inject, Injectable } from '@nestjs/common';
import { clusterNodes, completionUsageWindows, systemHealth, type HandlerResult, type HealthResult } from '../../../libs/client/src';
import { KSI_CONFIG, type KsiConfig } from '../../config/config';
import { executableStatus } from '../../config/executable';
import { Storage } from '../../database/storage';
import { EventBus } from '../../events/event-bus';
import { UPKEEP } from '../../events/event-context';
import { EventCatalogue } from '../../events/event-catalogue';
import { Handles } from '../../events/handles.decorator';
import { ShutdownCoordinator } from '../../lifecycle/shutdown-coordinator';
import { ConnectionRegistry } from '../../transport/connection-registry';

const megabytes = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;

@Injectable()
export class HealthHandlers {
  private readonly startedAt = Date.now() / 1000;

  constructor(
    @Inject(KSI_CONFIG) private readonly config: KsiConfig,
    private readonly storage: Storage,
    private readonly catalogue: EventCatalogue,
    private readonly connections: ConnectionRegistry,
    private readonly coordinator: ShutdownCoordinator,
    private readonly bus: EventBus,
  ) {}

  @Handles(systemHealth)
  async health(): Promise<HandlerResult<typeof systemHealth>> {
    const database = await this.checkDatabase();
    const [{ usage_windows }, cluster] = await Promise.all([this.bus.requestOne(completionUsageWindows, {}), this.clusterView()]);
    const claudeCli = { path: this.config.claudeBin, status: executableStatus(this.config.claudeBin) };
    const memory = process.memoryUsage();
    const modules = this.catalogue.modules();
    return {
      status: database.status !== 'ok' ? 'unhealthy' : claudeCli.status !== 'ok' ? 'degraded' : 'healthy',
      version: this.config.version,
      pid: process.pid,
      uptime: process.uptime(),
      started_at: this.startedAt,
      socket: this.config.socketPath,
      modules,
      modules_loaded: modules.length,
      events_registered: this.catalogue.eventNames().length,
      connections: this.connections.size,
      database,
      claude_cli: claudeCli,
      memory: { rss_mb: megabytes(memory.rss), heap_used_mb: megabytes(memory.heapUsed) },
      last_shutdown: { ...this.coordinator.lastShutdown },
      restored: this.coordinator.lastRestore,
      critical_services: this.coordinator.criticalServices,
      usage_windows,
      cluster,
    };
  }

  /** Empty when the database cannot be read: the database entry says why. */
  private async clusterView(): Promise<HealthResult['cluster']> {
    const answer = await this.bus.requestOne(clusterNodes, { include_dead: true }, UPKEEP).catch(() => undefined);
    if (!answer) return { node_id: this.config.node.id, alive: 0, suspect: 0, dead: 0, nodes: [] };
    const { node_id, nodes } = answer;
    const count = (status: string) => nodes.filter((node) => node.status === status).length;
    return { node_id, alive: count('alive'), suspect: count('suspect'), dead: count('dead'), nodes: nodes.map(({ node_id, status, running }) => ({ node_id, status, running })) };
  }

  /**
   * A read of the schema (fails on a file that is no database any more, or a server out of reach),
   * and the last write's storage fault. `sqlite_code` is SQLite's; PostgreSQL's code goes in the error.
   */
  private async checkDatabase(): Promise<HealthResult['database']> {
    const path = this.storage.location;
    const onSqlite = this.storage.dialect === 'sqlite';
    try {
      await this.storage.check();
    } catch (error) {
      const code = (error as { code?: string }).code;
      return { status: 'error', path, error: (error as Error).message, ...(onSqlite && { sqlite_code: code }) };
    }
    const fault = this.storage.storageFault;
    if (!fault) return { status: 'ok', path };
    if (onSqlite) return { status: 'error', path, error: `the last write failed: ${fault.error}`, sqlite_code: fault.code, since: fault.at };
    return { status: 'error', path, error: `the last write failed: ${fault.error} (${fault.code})`, since: fault.at };
  }
}
