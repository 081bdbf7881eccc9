import { Inject, Injectable } from '@nestjs/common';
import type { Database } from 'better-sqlite3';
import { systemHealth, type HandlerResult, type HealthResult } from '../../../libs/client/src';
import { KSI_CONFIG, type KsiConfig } from '../../config/config';
import { executableStatus } from '../../config/executable';
import { SQLITE } from '../../database/sqlite.provider';
import { WriteQueue } from '../../database/write-queue';
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
    @Inject(SQLITE) private readonly db: Database,
    private readonly writes: WriteQueue,
    private readonly catalogue: EventCatalogue,
    private readonly connections: ConnectionRegistry,
    private readonly coordinator: ShutdownCoordinator,
  ) {}

  @Handles(systemHealth)
  health(): HandlerResult<typeof systemHealth> {
    const database = this.checkDatabase();
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
    };
  }

  /** A read of the schema (fails on a file that is no database any more), and the last write's storage fault. */
  private checkDatabase(): HealthResult['database'] {
    const path = this.config.dbPath;
    try {
      this.db.prepare('SELECT count(*) FROM sqlite_master').get();
    } catch (error) {
      return { status: 'error', path, error: (error as Error).message, sqlite_code: (error as { code?: string }).code };
    }
    const fault = this.writes.storageFault;
    if (fault) return { status: 'error', path, error: `the last write failed: ${fault.error}`, sqlite_code: fault.code, since: fault.at };
    return { status: 'ok', path };
  }
}
