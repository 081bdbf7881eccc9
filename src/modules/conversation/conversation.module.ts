import { Module } from '@nestjs/common';
import { ConversationLocks } from './conversation-locks.service';
import { ConversationLogService } from './conversation-log.service';
import { ConversationHandlers } from './conversation.handlers';

@Module({ providers: [ConversationLogService, ConversationLocks, ConversationHandlers] })
export class ConversationModule {}
