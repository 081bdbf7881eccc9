import { Injectable } from '@nestjs/common';
import { shutdownAcknowledge, systemShutdown, type HandlerResult, type ParamsOut } from '../../../libs/client/src';
import { Handles } from '../../events/handles.decorator';
import { ShutdownCoordinator } from '../../lifecycle/shutdown-coordinator';

@Injectable()
export class ShutdownHandlers {
  constructor(private readonly coordinator: ShutdownCoordinator) {}

  /** The reply goes out first, then the request takes the same path as SIGTERM: there is one shutdown sequence. */
  @Handles(systemShutdown)
  shutdown(): HandlerResult<typeof systemShutdown> {
    this.coordinator.reason = 'requested';
    setImmediate(() => process.kill(process.pid, 'SIGTERM'));
    return { status: 'shutting_down', pid: process.pid };
  }

  @Handles(shutdownAcknowledge)
  acknowledge({ service_name }: ParamsOut<typeof shutdownAcknowledge>): HandlerResult<typeof shutdownAcknowledge> {
    this.coordinator.acknowledge(service_name);
    return { acknowledged: service_name, critical: this.coordinator.criticalServices.includes(service_name) };
  }
}
