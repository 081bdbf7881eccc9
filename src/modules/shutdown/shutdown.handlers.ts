import { Injectable } from '@nestjs/common';
import { acknowledgeParams, noLifecycleParams, type z } from '../../../libs/client/src';
import type { EventContext } from '../../events/event-context';
import { Handles } from '../../events/handles.decorator';
import { ShutdownCoordinator } from '../../lifecycle/shutdown-coordinator';

@Injectable()
export class ShutdownHandlers {
  constructor(private readonly coordinator: ShutdownCoordinator) {}

  /**
   * A client's request replies first, then takes the same path as SIGTERM, so there is one shutdown
   * sequence. The coordinator raises system:shutdown inside the daemon too, for services to hear; that
   * broadcast (no connection) is not a request and starts nothing.
   */
  @Handles('system:shutdown', { summary: 'Stop the daemon gracefully (the same path as SIGTERM)', params: noLifecycleParams })
  shutdown(_data: unknown, context: EventContext): { status: 'shutting_down'; pid: number } | undefined {
    if (!context.connection) return undefined;
    this.coordinator.reason = 'requested';
    setImmediate(() => process.kill(process.pid, 'SIGTERM'));
    return { status: 'shutting_down', pid: process.pid };
  }

  @Handles('shutdown:acknowledge', { summary: 'A critical service says it finished its shutdown work', params: acknowledgeParams })
  acknowledge({ service_name }: z.output<typeof acknowledgeParams>): { acknowledged: string; critical: boolean } {
    this.coordinator.acknowledge(service_name);
    return { acknowledged: service_name, critical: this.coordinator.criticalServices.includes(service_name) };
  }
}
