import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AgentMessage } from './agent-message.entity';
import { Agent } from './agent.entity';
import { AgentHandlers } from './agent.handlers';
import { AgentService } from './agent.service';

@Module({ imports: [TypeOrmModule.forFeature([Agent, AgentMessage])], providers: [AgentService, AgentHandlers] })
export class AgentModule {}
