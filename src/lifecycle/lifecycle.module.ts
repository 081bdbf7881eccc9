import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DaemonRun } from './daemon-run.entity';
import { DaemonRunRepository } from './daemon-run.repository';
import { PidFile } from './pid-file';
import { ShutdownCoordinator } from './shutdown-coordinator';

/** The daemon's own lifecycle: PID file and the shutdown barrier. */
@Global()
@Module({
  imports: [TypeOrmModule.forFeature([DaemonRun])],
  providers: [DaemonRunRepository, PidFile, ShutdownCoordinator],
  exports: [PidFile, ShutdownCoordinator],
})
export class LifecycleModule {}
