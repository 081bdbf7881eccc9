import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { QueueItem } from './queue-item.entity';
import { QueueRepository } from './queue.repository';
import { StateEntry } from './state-entry.entity';
import { StateRepository } from './state.repository';
import { StateHandlers } from './state.handlers';
import { StateService } from './state.service';

@Module({
  imports: [TypeOrmModule.forFeature([StateEntry, QueueItem])],
  providers: [StateRepository, QueueRepository, StateService, StateHandlers],
})
export class StateModule {}
