import { Module } from '@nestjs/common';
import { OrchestrationHandlers } from './orchestration.handlers';
import { OrchestrationRepository } from './orchestration.repository';
import { OrchestrationService } from './orchestration.service';

@Module({ providers: [OrchestrationRepository, OrchestrationService, OrchestrationHandlers] })
export class OrchestrationModule {}
