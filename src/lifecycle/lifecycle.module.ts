import { Global, Module } from '@nestjs/common';
import { DaemonRunRepository } from './daemon-run.repository';
import { PidFile } from './pid-file';
import { ShutdownCoordinator } from './shutdown-coordinator';

/** The daemon's own lifecycle: PID file and the shutdown barrier. */
@Global()
@Module({
  providers: [DaemonRunRepository, PidFile, ShutdownCoordinator],
  exports: [PidFile, ShutdownCoordinator],
})
export class LifecycleModule {}
