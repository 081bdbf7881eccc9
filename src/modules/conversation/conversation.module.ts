import { Module } from '@nestjs/common';
import { ConversationLocks } from './conversation-locks.service';
import { ConversationHistory } from './conversation-history.service';
import { ConversationHandlers } from './conversation.handlers';

@Module({ providers: [ConversationHistory, ConversationLocks, ConversationHandlers] })
export class ConversationModule {}
