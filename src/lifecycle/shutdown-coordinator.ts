import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { Logger } from 'pino';
import {
  checkpointWrite,
  systemShutdownComplete,
  systemShutdownNotification,
  systemShutdownStarted,
  type LastShutdown,
  type RestoreSummary,
  type ShutdownReport,
} from '../../libs/client/src';
import { CLOCK, type Clock } from '../common/clock';
import { KSI_CONFIG, type KsiConfig } from '../config/config';
import { Dispatcher } from '../events/dispatcher';
import { EventBus } from '../events/event-bus';
import { MethodDiscovery } from '../events/method-discovery';
import { DAEMON_LOG } from '../logging/logger';
import { ConnectionRegistry } from '../transport/connection-registry';
import { DaemonRunRepository, type PastRun } from './daemon-run.repository';
import { ShutdownHandlerMarker } from './shutdown-handler.decorator';

interface CriticalService {
  name: string;
  run: () => unknown;
}

/**
 * The one shutdown path (SIGTERM, SIGINT and system:shutdown alike), run once: drain the transport,
 * notify every connection, raise system:shutdown_started, wait for every critical service under a timeout,
 * raise system:shutdown_complete and write the checkpoint while the database is still open. It runs in
 * its (global) module's onModuleDestroy, which Nest calls after the feature modules': their own
 * onModuleDestroy (the dashboard's close, timers) must not stop anything this sequence needs.
 */
@Injectable()
export class ShutdownCoordinator implements OnModuleInit, OnModuleDestroy {
  private readonly services: CriticalService[] = [];
  private readonly acknowledged = new Set<string>();
  private ackListener?: () => void;
  private sequence?: Promise<void>;
  private runId = 0;
  private restoreSummary: RestoreSummary | null = null;
  lastShutdown: LastShutdown = { kind: 'first_start' };
  /** Why the daemon stops; `system:shutdown` sets "requested". */
  reason = 'signal';

  constructor(
    @Inject(KSI_CONFIG) private readonly config: KsiConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(DAEMON_LOG) private readonly log: Logger,
    private readonly runs: DaemonRunRepository,
    private readonly methods: MethodDiscovery,
    private readonly dispatcher: Dispatcher,
    private readonly connections: ConnectionRegistry,
    private readonly bus: EventBus,
  ) {}

  async onModuleInit(): Promise<void> {
    for (const { metadata: name, instance, method } of this.methods.methodsWith(ShutdownHandlerMarker)) {
      this.services.push({ name, run: () => method.call(instance) });
    }
    const { id, previous } = await this.runs.start(process.pid, this.clock.now());
    this.runId = id;
    this.lastShutdown = howItEnded(previous);
  }

  onModuleDestroy(): Promise<void> {
    this.sequence ??= this.shutdown();
    return this.sequence;
  }

  get criticalServices(): string[] {
    return this.services.map((service) => service.name);
  }

  /** `shutdown:acknowledge`, or a critical handler finishing. */
  acknowledge(serviceName: string): void {
    this.acknowledged.add(serviceName);
    this.ackListener?.();
  }

  recordRestore(summary: RestoreSummary | null): void {
    this.restoreSummary = summary;
  }

  get lastRestore(): RestoreSummary | null {
    return this.restoreSummary;
  }

  private async shutdown(): Promise<void> {
    const startedAt = this.clock.now();
    this.log.info({ reason: this.reason, services: this.criticalServices }, 'shutdown started');
    this.dispatcher.draining = true;
    this.connections.broadcast(systemShutdownNotification, { reason: 'daemon_shutdown', timestamp: startedAt / 1000 });
    // Before waiting for requests in flight: listeners end those that would wait long (approval prompts).
    this.bus.emit(systemShutdownStarted, { reason: this.reason });
    const deadline = startedAt + this.config.shutdownTimeoutMs;
    await this.until(deadline, Promise.all(this.connections.all().map((connection) => connection.whenIdle())));

    for (const service of this.services) {
      Promise.resolve()
        .then(service.run)
        .then(
          () => this.acknowledge(service.name),
          (error: Error) => {
            this.log.error({ service: service.name, err: error.stack }, 'shutdown handler failed');
            this.acknowledge(service.name);
          },
        );
    }
    await this.until(deadline, this.allAcknowledged());
    const timedOut = this.criticalServices.filter((name) => !this.acknowledged.has(name));
    if (timedOut.length > 0) this.log.error({ services: timedOut, timeout_ms: this.config.shutdownTimeoutMs }, 'shutdown timed out waiting for services');
    this.bus.emit(systemShutdownComplete, { services: [...this.acknowledged], timed_out_services: timedOut });

    const checkpoint = await this.bus
      .requestOne(checkpointWrite, { reason: 'shutdown' })
      .catch((error: Error) => (this.log.error({ err: error.message }, 'checkpoint not written'), undefined));
    const report: ShutdownReport = {
      reason: this.reason,
      clean: timedOut.length === 0,
      acknowledged: [...this.acknowledged],
      timed_out_services: timedOut,
      checkpoint_id: checkpoint?.checkpoint_id ?? null,
      started_at: startedAt / 1000,
      duration_ms: this.clock.now() - startedAt,
    };
    await this.runs.end(this.runId, this.clock.now(), JSON.stringify(report));
    this.log.info(report, 'shutdown barrier done');
  }

  private allAcknowledged(): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        if (this.criticalServices.every((name) => this.acknowledged.has(name))) resolve();
      };
      this.ackListener = check;
      check();
    });
  }

  /** Waits for `work`, or until the shutdown deadline passes, whichever is first. */
  private async until(deadline: number, work: Promise<unknown>): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, deadline - this.clock.now()))));
    await Promise.race([work.then(() => undefined, () => undefined), timeout]);
    clearTimeout(timer);
  }
}

/** The run before this one: none, one that never recorded its end (a crash), or its shutdown report. */
function howItEnded(run: PastRun | undefined): LastShutdown {
  if (!run) return { kind: 'first_start' };
  if (run.endedAt === null || run.shutdown === null) return { kind: 'crash', pid: run.pid, started_at: run.startedAt / 1000 };
  const report = JSON.parse(run.shutdown) as ShutdownReport;
  return { kind: report.clean ? 'clean' : 'timeout', ...report };
}
