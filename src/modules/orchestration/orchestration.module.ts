import { Module } from '@nestjs/common';
import { OrchestrationHandlers } from './orchestration.handlers';
import { OrchestrationService } from './orchestration.service';

@Module({ providers: [OrchestrationService, OrchestrationHandlers] })
export class OrchestrationModule {}
