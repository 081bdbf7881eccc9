import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ClaudeCliProvider } from './claude-cli.provider';
import { CompletionRequest } from './completion-request.entity';
import { CompletionHandlers } from './completion.handlers';
import { CompletionRepository } from './completion.repository';
import { CompletionService } from './completion.service';
import { ResponseLog } from './response-log';
import { SessionLink } from './session-link.entity';

@Module({
  imports: [TypeOrmModule.forFeature([CompletionRequest, SessionLink])],
  providers: [ClaudeCliProvider, CompletionRepository, ResponseLog, CompletionService, CompletionHandlers],
})
export class CompletionModule {}
