import { Module } from '@nestjs/common';
import { AgentBridges } from './agent-bridges.service';
import { AgentIdentities } from './agent-identities.service';
import { AgentIdentityRepository } from './agent-identity.repository';
import { AgentInbox } from './agent-inbox.service';
import { AgentLifecycle } from './agent-lifecycle.service';
import { AgentMessageRepository } from './agent-message.repository';
import { AgentOwnership } from './agent-ownership.service';
import { AgentRecords } from './agent-records.service';
import { AgentTurns } from './agent-turns.service';
import { AgentHandlers } from './agent.handlers';
import { AgentRepository } from './agent.repository';
import { TurnOutcomes } from './turn-outcomes.service';

@Module({
  providers: [AgentRepository, AgentMessageRepository, AgentIdentityRepository, AgentRecords, AgentTurns, TurnOutcomes, AgentOwnership, AgentInbox, AgentLifecycle, AgentIdentities, AgentBridges, AgentHandlers],
})
export class AgentModule {}
