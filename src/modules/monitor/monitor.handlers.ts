import { Injectable } from '@nestjs/common';
import {
  correlationChain,
  correlationCleanup,
  correlationCurrent,
  correlationStats,
  correlationTrace,
  correlationTree,
  monitorClearLog,
  monitorGetCorrelationChain,
  monitorGetEvents,
  monitorGetSessionEvents,
  monitorGetStats,
  monitorSubscribe,
  monitorUnsubscribe,
  type HandlerResult,
  type ParamsOut,
} from '../../../libs/client/src';
import { correlationStorage } from '../../events/correlation';
import type { ClientConnection, EventContext } from '../../events/event-context';
import { EventError } from '../../events/event-error';
import { Handles } from '../../events/handles.decorator';
import { buildTree } from './correlation-tree';
import { EventLogReader, type EventPage } from './event-log.reader';
import { EventLogRecorder } from './event-log.recorder';
import { EventLogRetention } from './event-log.retention';
import { MonitorService } from './monitor.service';

const requireConnection = (context: EventContext): ClientConnection => {
  if (!context.connection) throw new EventError('no_connection', 'monitor subscriptions belong to socket connections');
  return context.connection;
};

@Injectable()
export class MonitorHandlers {
  constructor(
    private readonly monitor: MonitorService,
    private readonly reader: EventLogReader,
    private readonly recorder: EventLogRecorder,
    private readonly retention: EventLogRetention,
  ) {}

  @Handles(monitorSubscribe)
  subscribe({ patterns }: ParamsOut<typeof monitorSubscribe>, context: EventContext): HandlerResult<typeof monitorSubscribe> {
    const connection = requireConnection(context);
    this.monitor.subscribe(connection, patterns);
    return { status: 'subscribed', patterns, client_id: connection.id };
  }

  @Handles(monitorUnsubscribe)
  unsubscribe(_data: ParamsOut<typeof monitorUnsubscribe>, context: EventContext): HandlerResult<typeof monitorUnsubscribe> {
    const connection = requireConnection(context);
    return { status: 'unsubscribed', client_id: connection.id, was_subscribed: this.monitor.unsubscribe(connection) };
  }

  @Handles(monitorGetEvents)
  async getEvents(filters: ParamsOut<typeof monitorGetEvents>): Promise<HandlerResult<typeof monitorGetEvents>> {
    const page = await this.reader.query(filters);
    return { events: page.events, count: page.events.length, ...truncation(page) };
  }

  @Handles(monitorGetStats)
  async stats(): Promise<HandlerResult<typeof monitorGetStats>> {
    return { event_log: await this.reader.stats() };
  }

  @Handles(monitorClearLog)
  async clear(): Promise<HandlerResult<typeof monitorClearLog>> {
    return { status: 'cleared', events_cleared: await this.recorder.clear() };
  }

  @Handles(monitorGetSessionEvents)
  async sessionEvents({ session_id, limit }: ParamsOut<typeof monitorGetSessionEvents>): Promise<HandlerResult<typeof monitorGetSessionEvents>> {
    const page = await this.reader.query({ session_id, limit, reverse: false });
    return { session_id, events: page.events, count: page.events.length, ...truncation(page) };
  }

  @Handles(monitorGetCorrelationChain)
  async correlationChain({ correlation_id }: ParamsOut<typeof monitorGetCorrelationChain>): Promise<HandlerResult<typeof monitorGetCorrelationChain>> {
    const page = await this.reader.chain(correlation_id);
    const { events } = page;
    return { correlation_id, events, count: events.length, event_types: [...new Set(events.map((event) => event.event_name))], ...truncation(page) };
  }

  @Handles(correlationChain)
  async chain({ correlation_id }: ParamsOut<typeof correlationChain>): Promise<HandlerResult<typeof correlationChain>> {
    const page = await this.reader.chain(correlation_id);
    return { correlation_id, chain_length: page.events.length, chain: page.events, ...truncation(page) };
  }

  @Handles(correlationTree)
  async tree({ correlation_id }: ParamsOut<typeof correlationTree>): Promise<HandlerResult<typeof correlationTree>> {
    const page = await this.reader.chain(correlation_id);
    return { correlation_id, tree: buildTree(page.events), ...truncation(page) };
  }

  @Handles(correlationTrace)
  async trace({ correlation_id }: ParamsOut<typeof correlationTrace>): Promise<HandlerResult<typeof correlationTrace>> {
    const page = await this.reader.chain(correlation_id);
    const { events } = page;
    if (events.length === 0) throw new EventError('not_found', `Trace ${correlation_id} not found (is KSI_EVENT_LOG on?)`);
    const [root] = buildTree(events);
    const last = events[events.length - 1];
    return { correlation_id, event_name: root.event_name, outcome: root.outcome, started_at: root.timestamp, duration_ms: Math.round((last.timestamp - root.timestamp) * 1000), events: events.length, tree: root, ...truncation(page) };
  }

  @Handles(correlationStats)
  async correlationStats(): Promise<HandlerResult<typeof correlationStats>> {
    return { correlation_stats: await this.reader.correlationStats() };
  }

  @Handles(correlationCleanup)
  async cleanup({ max_age_hours }: ParamsOut<typeof correlationCleanup>): Promise<HandlerResult<typeof correlationCleanup>> {
    return { cleaned_events: await this.retention.removeOlderThan(max_age_hours), max_age_hours };
  }

  @Handles(correlationCurrent)
  current(): HandlerResult<typeof correlationCurrent> {
    const scope = correlationStorage.getStore();
    return { current_correlation_id: scope?.correlationId ?? null, event_id: scope?.eventId ?? null };
  }
}

/** Said only when events were left out: the reply would have passed KSI_MONITOR_REPLY_BYTES. */
function truncation(page: EventPage) {
  return page.truncated
    ? { truncated: true as const, truncated_reason: 'More events matched than one reply holds (KSI_MONITOR_REPLY_BYTES); narrow the filters (since, until, patterns) or lower limit' }
    : {};
}
