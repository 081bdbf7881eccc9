import { Injectable } from '@nestjs/common';
import {
  monitorSubscribeParams,
  monitorUnsubscribeParams,
  type MonitorSubscribeResult,
  type MonitorUnsubscribeResult,
  type z,
} from '../../../libs/client/src';
import type { ClientConnection, EventContext } from '../../events/event-context';
import { EventError } from '../../events/event-error';
import { Handles } from '../../events/handles.decorator';
import { MonitorService } from './monitor.service';

const requireConnection = (context: EventContext): ClientConnection => {
  if (!context.connection) throw new EventError('no_connection', 'monitor subscriptions belong to socket connections');
  return context.connection;
};

@Injectable()
export class MonitorHandlers {
  constructor(private readonly monitor: MonitorService) {}

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
}
