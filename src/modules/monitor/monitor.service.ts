import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import picomatch from 'picomatch';
import { monitorEvent } from '../../../libs/client/src';
import { KSI_CONFIG, type KsiConfig } from '../../config/config';
import type { ClientConnection } from '../../events/event-context';
import { EventTap, type EventRecord } from '../../events/event-tap';
import { EventLogTail } from './event-log.tail';
import { toRecordedJson } from './redact';

interface Subscription {
  patterns: string[];
  matches: (event: string) => boolean;
}

/**
 * Live event streams: each subscribed connection gets every matching event pushed as `monitor:event`,
 * this node's as they happen and, on a shared PostgreSQL database, the other nodes' as their event
 * log rows commit (see EventLogTail). Each names the node that handled it.
 */
@Injectable()
export class MonitorService implements OnApplicationShutdown {
  private readonly subscriptions = new Map<ClientConnection, Subscription>();
  private stopObserving?: () => void;

  constructor(
    private readonly tap: EventTap,
    @Inject(KSI_CONFIG) private readonly config: KsiConfig,
    private readonly tail: EventLogTail,
  ) {}

  onApplicationShutdown(): void {
    this.stopObserving?.();
    this.tail.stop();
  }

  subscribe(connection: ClientConnection, patterns: string[]): void {
    const isNew = !this.subscriptions.has(connection);
    this.subscriptions.set(connection, { patterns, matches: picomatch(patterns, { dot: true }) });
    if (isNew) connection.onClose(() => this.unsubscribe(connection));
    // The tap is observed only while someone subscribed: it costs nothing otherwise.
    if (!this.stopObserving) {
      this.stopObserving = this.tap.observe((record) => this.deliver(record));
      this.tail.start((record) => this.deliver(record));
    }
  }

  unsubscribe(connection: ClientConnection): boolean {
    const removed = this.subscriptions.delete(connection);
    if (this.subscriptions.size === 0 && this.stopObserving) {
      this.stopObserving();
      this.stopObserving = undefined;
      this.tail.stop();
    }
    return removed;
  }

  private deliver(record: EventRecord): void {
    let redacted: EventRecord | undefined;
    for (const [connection, subscription] of this.subscriptions) {
      if (!subscription.matches(record.event_name)) continue;
      redacted ??= { ...record, data: JSON.parse(toRecordedJson(record.data ?? null, this.config.eventDataMaxBytes)) as unknown, node_id: record.node_id ?? this.config.node.id };
      connection.push(monitorEvent, redacted);
    }
  }
}
