import { Global, Module, type DynamicModule } from '@nestjs/common';
import { CLOCK, systemClock, type Clock } from '../common/clock';
import { KSI_CONFIG, type KsiConfig } from './config';

/** The runtime every module may inject: the validated configuration and the clock. */
@Global()
@Module({})
export class ConfigModule {
  static forRoot(config: KsiConfig, clock: Clock = systemClock): DynamicModule {
    return {
      module: ConfigModule,
      providers: [
        { provide: KSI_CONFIG, useValue: config },
        { provide: CLOCK, useValue: clock },
      ],
      exports: [KSI_CONFIG, CLOCK],
    };
  }
}
