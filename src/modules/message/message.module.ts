import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { BusMessageRow } from './bus-message.entity';
import { MessageBusService } from './message-bus.service';
import { MessageHandlers } from './message.handlers';

@Module({ imports: [TypeOrmModule.forFeature([BusMessageRow])], providers: [MessageBusService, MessageHandlers] })
export class MessageModule {}
