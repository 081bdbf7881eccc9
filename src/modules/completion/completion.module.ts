import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { CompletionRequest } from './completion-request.entity';
import { CompletionHandlers } from './completion.handlers';
import { CompletionRepository } from './completion.repository';
import { CompletionService } from './completion.service';
import { CostHandlers } from './cost.handlers';
import { CostRepository } from './cost.repository';
import { CostService } from './cost.service';
import { ProviderMessage } from './provider-message.entity';
import { ProviderMessagesRepository } from './provider-messages.repository';
import { AnthropicProvider } from './providers/anthropic.provider';
import { ClaudeCliProvider } from './providers/claude-cli.provider';
import { COMPLETION_PROVIDERS, type CompletionProvider } from './providers/completion-provider';
import { ResponseLog } from './response-log';
import { SessionLink } from './session-link.entity';

@Module({
  imports: [TypeOrmModule.forFeature([CompletionRequest, SessionLink, ProviderMessage])],
  providers: [
    ClaudeCliProvider,
    AnthropicProvider,
    ProviderMessagesRepository,
    { provide: COMPLETION_PROVIDERS, useFactory: (...providers: CompletionProvider[]) => providers, inject: [ClaudeCliProvider, AnthropicProvider] },
    CompletionRepository,
    ResponseLog,
    CompletionService,
    CompletionHandlers,
    CostRepository,
    CostService,
    CostHandlers,
  ],
})
export class CompletionModule {}
