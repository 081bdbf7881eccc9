import { Module } from '@nestjs/common';
import { MonitorHandlers } from './monitor.handlers';
import { MonitorService } from './monitor.service';

@Module({ providers: [MonitorService, MonitorHandlers] })
export class MonitorModule {}
