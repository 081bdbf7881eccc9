import { Module } from '@nestjs/common';
import { EventLogReader } from './event-log.reader';
import { EventLogRecorder } from './event-log.recorder';
import { EventLogRepository } from './event-log.repository';
import { EventLogRetention } from './event-log.retention';
import { EventLogWriterThread } from './event-log.writer-thread';
import { EventLogTail } from './event-log.tail';
import { MonitorHandlers } from './monitor.handlers';
import { MonitorService } from './monitor.service';

@Module({
  providers: [EventLogWriterThread, EventLogRepository, EventLogRecorder, EventLogRetention, EventLogReader, EventLogTail, MonitorService, MonitorHandlers],
})
export class MonitorModule {}
