import { Injectable } from '@nestjs/common';
import { monitorDashboard, type HandlerResult } from '../../../libs/client/src';
import type { EventContext } from '../../events/event-context';
import { EventError } from '../../events/event-error';
import { Handles } from '../../events/handles.decorator';
import { DashboardServer } from './dashboard.server';

@Injectable()
export class DashboardHandlers {
  constructor(private readonly server: DashboardServer) {}

  /** The URL carries the operator's token: no agent gets it over the socket, whatever its profile allows (the 0600 token file is the operator user's, as the socket is). */
  @Handles(monitorDashboard)
  dashboard(_data: unknown, context: EventContext): HandlerResult<typeof monitorDashboard> {
    if (context.agentId !== undefined) throw new EventError('permission_denied', "The dashboard's address carries the operator's token; agents cannot read it");
    const url = this.server.url;
    return { enabled: url !== undefined, url: url ?? null };
  }
}
