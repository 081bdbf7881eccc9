import { Injectable } from '@nestjs/common';
import {
  cleanupParams,
  correlationParams,
  getEventsParams,
  noMonitorParams,
  sessionEventsParams,
  monitorSubscribeParams,
  monitorUnsubscribeParams,
  type MonitorSubscribeResult,
  type MonitorUnsubscribeResult,
  type z,
} from '../../../libs/client/src';
import type { ClientConnection, EventContext } from '../../events/event-context';
import { EventError } from '../../events/event-error';
import { Handles } from '../../events/handles.decorator';
import { correlationStorage } from '../../events/correlation';
import { buildTree } from './correlation-tree';
import { EventLogService, type EventPage } from './event-log.service';
import { MonitorService } from './monitor.service';

const requireConnection = (context: EventContext): ClientConnection => {
  if (!context.connection) throw new EventError('no_connection', 'monitor subscriptions belong to socket connections');
  return context.connection;
};

@Injectable()
export class MonitorHandlers {
  constructor(
    private readonly monitor: MonitorService,
    private readonly log: EventLogService,
  ) {}

  @Handles('monitor:subscribe', { summary: 'Stream matching events to this connection as pushed monitor:event lines', params: monitorSubscribeParams })
  subscribe({ patterns }: z.output<typeof monitorSubscribeParams>, context: EventContext): MonitorSubscribeResult {
    const connection = requireConnection(context);
    this.monitor.subscribe(connection, patterns);
    return { status: 'subscribed', patterns, client_id: connection.id };
  }

  @Handles('monitor:unsubscribe', { summary: "Stop this connection's event stream", params: monitorUnsubscribeParams })
  unsubscribe(_data: z.output<typeof monitorUnsubscribeParams>, context: EventContext): MonitorUnsubscribeResult {
    const connection = requireConnection(context);
    return { status: 'unsubscribed', client_id: connection.id, was_subscribed: this.monitor.unsubscribe(connection) };
  }

  @Handles('monitor:get_events', { summary: 'Recorded events, filtered by name globs, time, client, session or correlation id', params: getEventsParams })
  async getEvents(filters: z.output<typeof getEventsParams>) {
    const page = await this.log.query(filters);
    return { events: page.events, count: page.events.length, ...truncation(page) };
  }

  @Handles('monitor:get_stats', { summary: 'Events per second, by namespace, error rate, latency per event', params: noMonitorParams })
  stats() {
    return { event_log: this.log.stats() };
  }

  @Handles('monitor:clear_log', { summary: 'Empty the event log', params: noMonitorParams })
  async clear() {
    return { status: 'cleared', events_cleared: await this.log.clear() };
  }

  @Handles('monitor:get_session_events', { summary: 'Events that carried a session id', params: sessionEventsParams })
  async sessionEvents({ session_id, limit }: z.output<typeof sessionEventsParams>) {
    const page = await this.log.query({ session_id, limit, reverse: false });
    return { session_id, events: page.events, count: page.events.length, ...truncation(page) };
  }

  @Handles('monitor:get_correlation_chain', { summary: 'Every event of one correlation id, in order', params: correlationParams })
  async correlationChain({ correlation_id }: z.output<typeof correlationParams>) {
    const page = await this.log.chain(correlation_id);
    const { events } = page;
    return { correlation_id, events, count: events.length, event_types: [...new Set(events.map((event) => event.event_name))], ...truncation(page) };
  }

  @Handles('correlation:chain', { summary: 'The events a request caused, in order', params: correlationParams })
  async chain({ correlation_id }: z.output<typeof correlationParams>) {
    const page = await this.log.chain(correlation_id);
    return { correlation_id, chain_length: page.events.length, chain: page.events, ...truncation(page) };
  }

  @Handles('correlation:tree', { summary: 'The causal tree of a request: each event with the events it caused', params: correlationParams })
  async tree({ correlation_id }: z.output<typeof correlationParams>) {
    const page = await this.log.chain(correlation_id);
    return { correlation_id, tree: buildTree(page.events), ...truncation(page) };
  }

  @Handles('correlation:trace', { summary: 'The request, its outcome and duration, and what it caused', params: correlationParams })
  async trace({ correlation_id }: z.output<typeof correlationParams>) {
    const page = await this.log.chain(correlation_id);
    const { events } = page;
    if (events.length === 0) throw new EventError('not_found', `Trace ${correlation_id} not found (is KSI_EVENT_LOG on?)`);
    const [root] = buildTree(events);
    const last = events[events.length - 1];
    return { correlation_id, event_name: root.event_name, outcome: root.outcome, started_at: root.timestamp, duration_ms: Math.round((last.timestamp - root.timestamp) * 1000), events: events.length, tree: root, ...truncation(page) };
  }

  @Handles('correlation:stats', { summary: 'How many correlation ids and events the log holds', params: noMonitorParams })
  correlationStats() {
    return { correlation_stats: this.log.correlationStats() };
  }

  @Handles('correlation:cleanup', { summary: 'Remove events older than max_age_hours', params: cleanupParams })
  async cleanup({ max_age_hours }: z.output<typeof cleanupParams>) {
    return { cleaned_events: await this.log.removeOlderThan(max_age_hours), max_age_hours };
  }

  @Handles('correlation:current', { summary: "This request's own correlation id and event id", params: noMonitorParams })
  current() {
    const scope = correlationStorage.getStore();
    return { current_correlation_id: scope?.correlationId ?? null, event_id: scope?.eventId ?? null };
  }
}

/** Said only when events were left out: the reply would have passed KSI_MONITOR_REPLY_BYTES. */
function truncation(page: EventPage) {
  return page.truncated
    ? { truncated: true, truncated_reason: 'More events matched than one reply holds (KSI_MONITOR_REPLY_BYTES); narrow the filters (since, until, patterns) or lower limit' }
    : {};
}
