import { Module } from '@nestjs/common';
import { BusMessageRepository } from './bus-message.repository';
import { MessageBusService } from './message-bus.service';
import { MessageHandlers } from './message.handlers';

@Module({ providers: [BusMessageRepository, MessageBusService, MessageHandlers] })
export class MessageModule {}
