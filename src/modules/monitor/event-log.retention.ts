import { Inject, Injectable, type BeforeApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { CLOCK, type Clock } from '../../common/clock';
import { KSI_CONFIG, type KsiConfig } from '../../config/config';
import { EventLogRepository } from './event-log.repository';

const HOUR_MS = 3_600_000;

/** Keeps the event log to KSI_EVENT_RETENTION_DAYS: at start, then every hour (one node at a time in a cluster). */
@Injectable()
export class EventLogRetention implements OnModuleInit, BeforeApplicationShutdown {
  private timer?: NodeJS.Timeout;

  constructor(
    @Inject(KSI_CONFIG) private readonly config: KsiConfig,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly events: EventLogRepository,
  ) {}

  onModuleInit(): void {
    if (!this.config.eventLog) return;
    void this.apply();
    this.timer = setInterval(() => void this.apply(), HOUR_MS).unref();
  }

  beforeApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  /** Removes rows older than `hours`; returns how many. */
  removeOlderThan(hours: number): Promise<number> {
    return this.events.deleteBefore(this.clock.now() / 1000 - hours * 3600);
  }

  private async apply(): Promise<void> {
    await this.removeOlderThan(this.config.eventRetentionDays * 24).catch(() => undefined);
  }
}
