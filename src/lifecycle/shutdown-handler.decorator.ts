import { DiscoveryService } from '@nestjs/core';

/** What the coordinator looks for (MethodDiscovery.methodsWith): the service's name. */
export const ShutdownHandlerMarker = DiscoveryService.createDecorator<string>();

/**
 * Declares a critical service's part of the shutdown barrier: the method runs when shutdown begins,
 * and its completion is the service's acknowledgement. The barrier waits for every one of them (up to
 * KSI_SHUTDOWN_TIMEOUT_MS) before the checkpoint is written and the database closes.
 */
export const ShutdownHandler = (serviceName: string): MethodDecorator => ShutdownHandlerMarker(serviceName);
