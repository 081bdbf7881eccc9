import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { EventLogEntry } from './event-log.entity';
import { EventLogService } from './event-log.service';
import { MonitorHandlers } from './monitor.handlers';
import { MonitorService } from './monitor.service';

@Module({ imports: [TypeOrmModule.forFeature([EventLogEntry])], providers: [EventLogService, MonitorService, MonitorHandlers] })
export class MonitorModule {}
