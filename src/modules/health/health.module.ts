import { Module } from '@nestjs/common';
import { HealthHandlers } from './health.handlers';

@Module({ providers: [HealthHandlers] })
export class HealthModule {}
