import { Module } from '@nestjs/common';
import { ShutdownHandlers } from './shutdown.handlers';

@Module({ providers: [ShutdownHandlers] })
export class ShutdownModule {}
