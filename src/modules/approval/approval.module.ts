import { Module } from '@nestjs/common';
import { ApprovalHandlers } from './approval.handlers';
import { ApprovalRepository } from './approval.repository';
import { ApprovalService } from './approval.service';
import { ApprovalWebhook } from './approval-webhook';

@Module({ providers: [ApprovalRepository, ApprovalWebhook, ApprovalService, ApprovalHandlers] })
export class ApprovalModule {}
