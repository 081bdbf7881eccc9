import { Module } from '@nestjs/common';
import { AttemptRunner } from './attempt-runner';
import { AttemptSettlement } from './attempt-settlement';
import { CompletionAdmission } from './completion-admission';
import { CompletionCancellation } from './completion-cancellation';
import { CompletionCheckpoint } from './completion-checkpoint';
import { CompletionHandlers } from './completion.handlers';
import { CompletionNotifier } from './completion-notifier';
import { CompletionLeases } from './completion-leases';
import { CompletionScheduler } from './completion-scheduler';
import { CompletionViews } from './completion-views';
import { CompletionRepository } from './completion.repository';
import { CostHandlers } from './cost.handlers';
import { CostRepository } from './cost.repository';
import { CostService } from './cost.service';
import { CrashRecovery } from './crash-recovery';
import { LiveRequests } from './live-requests';
import { ProviderMessagesRepository } from './provider-messages.repository';
import { AnthropicProvider } from './providers/anthropic.provider';
import { ClaudeCliProvider } from './providers/claude-cli.provider';
import { COMPLETION_PROVIDERS, type CompletionProvider } from './providers/completion-provider';
import { ResponseLog } from './response-log';
import { UsageWindowRepository } from './usage-window.repository';
import { UsageWindows } from './usage-windows';

@Module({
  providers: [
    ClaudeCliProvider,
    AnthropicProvider,
    ProviderMessagesRepository,
    { provide: COMPLETION_PROVIDERS, useFactory: (...providers: CompletionProvider[]) => providers, inject: [ClaudeCliProvider, AnthropicProvider] },
    CompletionRepository,
    ResponseLog,
    LiveRequests,
    CompletionNotifier,
    UsageWindowRepository,
    UsageWindows,
    AttemptSettlement,
    AttemptRunner,
    CrashRecovery,
    CompletionLeases,
    CompletionScheduler,
    CompletionAdmission,
    CompletionCancellation,
    CompletionViews,
    CompletionCheckpoint,
    CompletionHandlers,
    CostRepository,
    CostService,
    CostHandlers,
  ],
})
export class CompletionModule {}
