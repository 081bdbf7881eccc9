import { Module } from '@nestjs/common';
import { CheckpointHandlers } from './checkpoint.handlers';
import { CheckpointRepository } from './checkpoint.repository';
import { CheckpointService } from './checkpoint.service';

@Module({ providers: [CheckpointRepository, CheckpointService, CheckpointHandlers] })
export class CheckpointModule {}
