import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DaemonRun } from './daemon-run.entity';
import { PidFile } from './pid-file';
import { ShutdownCoordinator } from './shutdown-coordinator';

/** The daemon's own lifecycle: PID file and the shutdown barrier. */
@Global()
@Module({
  imports: [TypeOrmModule.forFeature([DaemonRun])],
  providers: [PidFile, ShutdownCoordinator],
  exports: [PidFile, ShutdownCoordinator],
})
export class LifecycleModule {}
