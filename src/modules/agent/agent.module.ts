import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AgentIdentity } from './agent-identity.entity';
import { AgentMessage } from './agent-message.entity';
import { Agent } from './agent.entity';
import { AgentHandlers } from './agent.handlers';
import { AgentService } from './agent.service';
import { AgentIdentities } from './agent-identities.service';

@Module({ imports: [TypeOrmModule.forFeature([Agent, AgentMessage, AgentIdentity])], providers: [AgentService, AgentIdentities, AgentHandlers] })
export class AgentModule {}
