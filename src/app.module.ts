import { Module, type DynamicModule } from '@nestjs/common';
import type { Logger } from 'pino';
import type { Clock } from './common/clock';
import type { KsiConfig } from './config/config';
import { ConfigModule } from './config/config.module';
import { DatabaseModule } from './database/database.module';
import { EventsModule } from './events/events.module';
import { LifecycleModule } from './lifecycle/lifecycle.module';
import { LoggingModule } from './logging/logging.module';
import { AgentModule } from './modules/agent/agent.module';
import { ApprovalModule } from './modules/approval/approval.module';
import { BudgetModule } from './modules/budget/budget.module';
import { CheckpointModule } from './modules/checkpoint/checkpoint.module';
import { ClusterModule } from './modules/cluster/cluster.module';
import { CompletionModule } from './modules/completion/completion.module';
import { CompositionModule } from './modules/composition/composition.module';
import { ConversationModule } from './modules/conversation/conversation.module';
import { DashboardModule } from './modules/dashboard/dashboard.module';
import { DiscoveryModule } from './modules/discovery/discovery.module';
import { HealthModule } from './modules/health/health.module';
import { McpModule } from './modules/mcp/mcp.module';
import { MessageModule } from './modules/message/message.module';
import { MonitorModule } from './modules/monitor/monitor.module';
import { OrchestrationModule } from './modules/orchestration/orchestration.module';
import { PermissionModule } from './modules/permission/permission.module';
import { ShutdownModule } from './modules/shutdown/shutdown.module';
import { StateModule } from './modules/state/state.module';
import { TransportModule } from './transport/transport.module';

/** The daemon: infrastructure (config, log, events, database, transport) and the feature modules. */
@Module({})
export class AppModule {
  static forRoot(config: KsiConfig, log: Logger, clock?: Clock): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config, clock),
        LoggingModule.forRoot(log),
        EventsModule,
        DatabaseModule,
        TransportModule,
        LifecycleModule,
        StateModule,
        HealthModule,
        DiscoveryModule,
        ShutdownModule,
        MonitorModule,
        CompletionModule,
        ClusterModule,
        BudgetModule,
        ApprovalModule,
        CheckpointModule,
        CompositionModule,
        PermissionModule,
        McpModule,
        MessageModule,
        AgentModule,
        ConversationModule,
        OrchestrationModule,
        DashboardModule,
        ...(config.devtoolsPort !== undefined ? [devtools(config.devtoolsPort)] : []),
      ],
    };
  }
}

/** Loaded only when asked for: devtools and its code sandbox cost memory every daemon would pay. */
function devtools(port: number): DynamicModule {
  const { DevtoolsModule } = require('@nestjs/devtools-integration') as typeof import('@nestjs/devtools-integration');
  return DevtoolsModule.register({ http: true, port });
}
