import { Module } from '@nestjs/common';
import { DashboardHandlers } from './dashboard.handlers';
import { DashboardServer } from './dashboard.server';

@Module({ providers: [DashboardServer, DashboardHandlers] })
export class DashboardModule {}
