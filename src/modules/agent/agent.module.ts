import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AgentIdentity } from './agent-identity.entity';
import { AgentIdentities } from './agent-identities.service';
import { AgentInbox } from './agent-inbox.service';
import { AgentLifecycle } from './agent-lifecycle.service';
import { AgentMessage } from './agent-message.entity';
import { AgentRecords } from './agent-records.service';
import { AgentTurns } from './agent-turns.service';
import { Agent } from './agent.entity';
import { AgentHandlers } from './agent.handlers';
import { TurnOutcomes } from './turn-outcomes.service';

@Module({
  imports: [TypeOrmModule.forFeature([Agent, AgentMessage, AgentIdentity])],
  providers: [AgentRecords, AgentTurns, TurnOutcomes, AgentInbox, AgentLifecycle, AgentIdentities, AgentHandlers],
})
export class AgentModule {}
