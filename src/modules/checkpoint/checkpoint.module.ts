import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Checkpoint } from './checkpoint.entity';
import { CheckpointHandlers } from './checkpoint.handlers';
import { CheckpointService } from './checkpoint.service';

@Module({ imports: [TypeOrmModule.forFeature([Checkpoint])], providers: [CheckpointService, CheckpointHandlers] })
export class CheckpointModule {}
