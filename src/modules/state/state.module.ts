import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { QueueItem } from './queue-item.entity';
import { StateEntry } from './state-entry.entity';
import { StateHandlers } from './state.handlers';
import { StateService } from './state.service';

@Module({
  imports: [TypeOrmModule.forFeature([StateEntry, QueueItem])],
  providers: [StateService, StateHandlers],
})
export class StateModule {}
