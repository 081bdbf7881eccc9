import { Global, Module, type DynamicModule } from '@nestjs/common';
import type { Logger } from 'pino';
import { DAEMON_LOG } from './logger';

@Global()
@Module({})
export class LoggingModule {
  static forRoot(log: Logger): DynamicModule {
    return { module: LoggingModule, providers: [{ provide: DAEMON_LOG, useValue: log }], exports: [DAEMON_LOG] };
  }
}
